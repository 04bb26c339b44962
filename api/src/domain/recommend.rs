//! Ranking, for one volunteer, the requests they can sign up for now:
//! by their skills, how far the resident is from them, whether their
//! weekly availability covers the visit, and urgency.

use chrono::DateTime;
use chrono_tz::Tz;

use super::availability::{self, Slot};
use super::geo::{self, Coordinates};
use super::masking::coarse_distance_km;
use super::matching::Reason;
use super::vocab::{ServiceCategory, Urgency};

pub struct VolunteerFacts<'a> {
    pub skills: &'a [ServiceCategory],
    pub location: Option<Coordinates>,
    pub slots: &'a [Slot],
}

pub struct OpenRequestFacts {
    pub category: ServiceCategory,
    pub resident_location: Coordinates,
    pub urgency: Urgency,
    pub starts_at: DateTime<Tz>,
    pub ends_at: DateTime<Tz>,
}

pub struct Recommendation {
    pub score: f64,
    pub distance_km: Option<f64>,
    pub reasons: Vec<Reason>,
}

/// Distance at which proximity counts half.
const HALF_SCORE_KM: f64 = 3.0;

pub fn recommend(volunteer: &VolunteerFacts<'_>, request: &OpenRequestFacts) -> Recommendation {
    let mut reasons = Vec::new();
    let skilled = volunteer.skills.contains(&request.category);
    reasons.push(if skilled {
        Reason {
            code: "matches_skills",
            text: format!("符合你的特长「{}」", request.category.label()),
        }
    } else {
        Reason {
            code: "outside_skills",
            text: format!("「{}」不在你登记的特长中", request.category.label()),
        }
    });

    // Recommendations are of requests the volunteer has not signed up
    // for, so they may not see the address: the distance is measured to
    // the centre of the resident's grid cell (exact figures from three
    // places would pin the resident down, and whole kilometres alone
    // still give way to bisection), then shown, said and scored only in
    // whole kilometres.
    let distance_km = volunteer
        .location
        .map(|at| coarse_distance_km(at.distance_km(geo::cell_centre(request.resident_location))));
    let proximity = match distance_km {
        Some(d) => {
            reasons.push(Reason {
                code: "distance",
                text: format!("距你不超过 {d:.0} 公里"),
            });
            1.0 / (1.0 + d / HALF_SCORE_KM)
        }
        None => {
            reasons.push(Reason {
                code: "no_location",
                text: "你尚未设置常住位置".into(),
            });
            0.5
        }
    };

    let free = availability::covers(volunteer.slots, request.starts_at, request.ends_at);
    reasons.push(if free {
        Reason {
            code: "available",
            text: "服务时段在你登记的空闲时间内".into(),
        }
    } else {
        Reason {
            code: "not_available",
            text: "服务时段不在你登记的空闲时间内".into(),
        }
    });

    let urgency = match request.urgency {
        Urgency::Low => 0.25,
        Urgency::Normal => 0.5,
        Urgency::High => 0.75,
        Urgency::Urgent => 1.0,
    };
    if matches!(request.urgency, Urgency::High | Urgency::Urgent) {
        reasons.push(Reason {
            code: "urgent",
            text: format!("{}求助", request.urgency.label()),
        });
    }

    let raw = 0.35 * f64::from(u8::from(skilled))
        + 0.25 * proximity
        + 0.25 * f64::from(u8::from(free))
        + 0.15 * urgency;
    Recommendation {
        score: (raw * 1000.0).round() / 1000.0,
        distance_km,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::availability::WeeklySlot;
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    fn visit(category: ServiceCategory, km_north: f64) -> OpenRequestFacts {
        OpenRequestFacts {
            category,
            resident_location: Coordinates {
                lat: 39.92 + km_north / 111.2,
                lng: 116.40,
            },
            urgency: Urgency::Normal,
            // Tuesday 09:00–11:00.
            starts_at: Shanghai.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            ends_at: Shanghai.with_ymd_and_hms(2026, 12, 1, 11, 0, 0).unwrap(),
        }
    }

    #[test]
    fn skills_distance_and_availability_all_raise_the_score() {
        let slots = [Slot::parse(&WeeklySlot {
            weekday: 2,
            start: "08:00".into(),
            end: "12:00".into(),
        })
        .unwrap()];
        let skills = [ServiceCategory::MealDelivery];
        let me = VolunteerFacts {
            skills: &skills,
            location: Some(Coordinates {
                lat: 39.92,
                lng: 116.40,
            }),
            slots: &slots,
        };
        let fitting = recommend(&me, &visit(ServiceCategory::MealDelivery, 0.5));
        let far = recommend(&me, &visit(ServiceCategory::MealDelivery, 8.0));
        let unskilled = recommend(&me, &visit(ServiceCategory::Repair, 0.5));
        let busy = recommend(
            &VolunteerFacts { slots: &[], ..me },
            &visit(ServiceCategory::MealDelivery, 0.5),
        );
        assert!(fitting.score > far.score);
        assert!(fitting.score > unskilled.score);
        assert!(fitting.score > busy.score);
        assert!(fitting.score <= 1.0);
        let codes: Vec<&str> = fitting.reasons.iter().map(|r| r.code).collect();
        assert_eq!(codes, vec!["matches_skills", "distance", "available"]);
    }

    #[test]
    fn distance_is_whole_kilometres_and_ranks_as_such() {
        // The volunteer at a cell's centre; residents some rows of cells
        // (1.0008 km each) north, anywhere in their cells.
        let home = geo::cell_centre(Coordinates {
            lat: 39.92,
            lng: 116.40,
        });
        let me = VolunteerFacts {
            skills: &[],
            location: Some(home),
            slots: &[],
        };
        let at = |rows: f64, dlat: f64| {
            let mut request = visit(ServiceCategory::Shopping, 0.0);
            request.resident_location = Coordinates {
                lat: home.lat + rows * 0.009 + dlat,
                lng: home.lng,
            };
            request
        };
        let nearer = recommend(&me, &at(2.0, -0.004));
        let farther = recommend(&me, &at(2.0, 0.004));
        assert_eq!(nearer.distance_km, Some(3.0));
        assert_eq!(farther.distance_km, Some(3.0));
        assert_eq!(nearer.score, farther.score, "the order must not leak it");
        assert!(nearer.reasons.iter().any(|r| r.text == "距你不超过 3 公里"));
        let next_ring = recommend(&me, &at(3.0, 0.0));
        assert_eq!(next_ring.distance_km, Some(4.0));
        assert!(next_ring.score < nearer.score);
    }

    #[test]
    fn a_volunteer_without_location_still_gets_recommendations() {
        let me = VolunteerFacts {
            skills: &[],
            location: None,
            slots: &[],
        };
        let r = recommend(&me, &visit(ServiceCategory::Shopping, 1.0));
        assert!(r.distance_km.is_none());
        assert!(r.reasons.iter().any(|r| r.code == "no_location"));
    }
    #[test]
    fn residents_of_one_cell_are_the_same_distance_from_anywhere() {
        let me = VolunteerFacts {
            skills: &[],
            location: Some(Coordinates {
                lat: 39.95,
                lng: 116.45,
            }),
            slots: &[],
        };
        let centre = geo::cell_centre(visit(ServiceCategory::Shopping, 3.0).resident_location);
        for (dlat, dlng) in [(0.004, 0.005), (-0.004, -0.005), (0.0, 0.0)] {
            let mut request = visit(ServiceCategory::Shopping, 3.0);
            request.resident_location = Coordinates {
                lat: centre.lat + dlat,
                lng: centre.lng + dlng,
            };
            let seen = recommend(&me, &request);
            let exact = me.location.unwrap().distance_km(centre);
            assert_eq!(seen.distance_km, Some(coarse_distance_km(exact)));
        }
    }
}
