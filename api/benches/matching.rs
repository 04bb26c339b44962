//! Ranks 10,000 teams for one request: hard rules, scores, reasons, sort.
//! Goal: under 5 ms. Run with `cargo bench -p api --bench matching`.

use std::hint::black_box;

use api::domain::geo::Coordinates;
use api::domain::matching::{RequestFacts, TeamFacts, TeamSituation, rank_teams};
use api::domain::vocab::{ResidentCategory, ServiceCategory, Urgency};
use criterion::{Criterion, criterion_group, criterion_main};

fn teams(n: usize) -> Vec<TeamFacts> {
    // A deterministic spread over ~20 km around the resident, with a mix
    // of categories and vetting, so that many teams pass the hard rules.
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as f64 / (1u64 << 31) as f64
    };
    (0..n)
        .map(|_| {
            let categories = ServiceCategory::ALL
                .iter()
                .copied()
                .filter(|_| next() < 0.4)
                .collect();
            TeamFacts {
                categories,
                location: Coordinates {
                    lat: 39.92 + (next() - 0.5) * 0.2,
                    lng: 116.40 + (next() - 0.5) * 0.25,
                },
                service_radius_km: 2.0 + next() * 10.0,
                vetted: next() < 0.7,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let request = RequestFacts {
        category: ServiceCategory::HomeVisit,
        resident_category: Some(ResidentCategory::ElderlyAlone),
        resident_location: Coordinates {
            lat: 39.92,
            lng: 116.40,
        },
        urgency: Urgency::High,
        volunteers_needed: 3,
    };
    let teams = teams(10_000);
    let situation = |i: usize| TeamSituation {
        available_members: (i % 7) as u32,
        open_assignments: (i % 4) as u32,
        served_resident_before: i.is_multiple_of(11),
        ..Default::default()
    };
    let matched = rank_teams(&request, &teams, situation).len();
    println!("10,000 teams, {matched} pass the hard rules");
    c.bench_function("rank 10,000 teams for one request", |b| {
        b.iter(|| rank_teams(black_box(&request), black_box(&teams), situation))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
