//! Explained matching of teams to a help request.
//!
//! Hard rules first — a team must offer the category, have the resident
//! inside its service radius, and be vetted when the resident is a
//! left-behind child or disabled. The teams that pass get a score in
//! [0, 1] from proximity, members free in the window, current load,
//! continuity with the resident and the request's urgency, and reasons a
//! caseworker can read, each with a stable code.

use serde::Serialize;
use utoipa::ToSchema;

use super::geo::Coordinates;
use super::vocab::{ResidentCategory, ServiceCategory, Urgency};

/// What matching needs to know of the request.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    pub category: ServiceCategory,
    /// `None` for a community activity.
    pub resident_category: Option<ResidentCategory>,
    /// The resident's home, or a community activity's own place.
    pub resident_location: Coordinates,
    pub urgency: Urgency,
    pub volunteers_needed: u32,
}

impl RequestFacts {
    /// Left-behind children and disabled residents only; an activity is in
    /// a public place.
    pub fn needs_vetted_team(&self) -> bool {
        self.resident_category
            .is_some_and(ResidentCategory::needs_vetted_team)
    }
}

/// What matching needs to know of one team. The counts are gathered by
/// the service layer for the teams that pass the hard rules.
#[derive(Debug, Clone)]
pub struct TeamFacts {
    pub categories: Vec<ServiceCategory>,
    pub location: Coordinates,
    pub service_radius_km: f64,
    pub vetted: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TeamSituation {
    /// Members whose weekly availability covers the request's window.
    pub available_members: u32,
    /// Requests assigned to the team and not yet completed or cancelled.
    pub open_assignments: u32,
    /// The team has served this resident before.
    pub served_resident_before: bool,
    /// Of the available members, those with a no-show in the last 90
    /// days, and how many members' worth they lose by it (each counts
    /// for [`super::schedule::dependability`] of a member).
    pub members_with_no_shows: u32,
    pub no_show_discount: f64,
}

/// A sentence for the caseworker with a stable code for clients.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Reason {
    pub code: &'static str,
    pub text: String,
}

impl Reason {
    fn new(code: &'static str, text: impl Into<String>) -> Self {
        Self {
            code,
            text: text.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Scored {
    pub score: f64,
    pub reasons: Vec<Reason>,
}

/// The distance to the resident when the team passes every hard rule.
pub fn eligible(request: &RequestFacts, team: &TeamFacts) -> Option<f64> {
    if !team.categories.contains(&request.category) {
        return None;
    }
    if request.needs_vetted_team() && !team.vetted {
        return None;
    }
    let distance = team.location.distance_km(request.resident_location);
    (distance <= team.service_radius_km).then_some(distance)
}

/// Weights of proximity, staffing, load and continuity; they sum to 1.
/// Urgent work favours who is near and free; routine work favours teams
/// that already know the resident (长期结对).
fn weights(urgency: Urgency) -> [f64; 4] {
    match urgency {
        Urgency::Urgent => [0.45, 0.35, 0.15, 0.05],
        Urgency::High => [0.40, 0.35, 0.15, 0.10],
        Urgency::Normal => [0.30, 0.30, 0.20, 0.20],
        Urgency::Low => [0.20, 0.25, 0.20, 0.35],
    }
}

/// Scores an eligible team, `distance_km` being what [`eligible`] gave.
pub fn score(
    request: &RequestFacts,
    team: &TeamFacts,
    distance_km: f64,
    situation: TeamSituation,
) -> Scored {
    let proximity = if team.service_radius_km > 0.0 {
        (1.0 - distance_km / team.service_radius_km).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let needed = request.volunteers_needed.max(1);
    let dependable = (f64::from(situation.available_members) - situation.no_show_discount).max(0.0);
    let staffing = (dependable / f64::from(needed)).min(1.0);
    let load = 1.0 / (1.0 + f64::from(situation.open_assignments));
    let continuity = if situation.served_resident_before {
        1.0
    } else {
        0.0
    };
    let [w_near, w_staff, w_load, w_cont] = weights(request.urgency);
    let raw = w_near * proximity + w_staff * staffing + w_load * load + w_cont * continuity;
    let score = (raw.clamp(0.0, 1.0) * 1000.0).round() / 1000.0;

    let mut reasons = vec![
        Reason::new(
            "offers_category",
            format!("提供「{}」服务", request.category.label()),
        ),
        Reason::new(
            "within_radius",
            format!(
                "距服务对象 {:.1} 公里，在服务半径 {} 公里内",
                distance_km,
                trim_number(team.service_radius_km)
            ),
        ),
    ];
    if let Some(category) = request.resident_category.filter(|c| c.needs_vetted_team()) {
        reasons.push(Reason::new(
            "vetted_team",
            format!("队伍已通过审核，可服务{}", category.label()),
        ));
    }
    reasons.push(if situation.available_members == 0 {
        Reason::new("no_members_available", "暂无队员登记该时段有空")
    } else {
        Reason::new(
            "members_available",
            format!(
                "{} 名队员在服务时段有空（需要 {} 人）",
                situation.available_members, needed
            ),
        )
    });
    if situation.members_with_no_shows > 0 {
        reasons.push(Reason::new(
            "recent_no_shows",
            format!(
                "其中 {} 人近 90 天有未到场记录，人手按折扣计算",
                situation.members_with_no_shows
            ),
        ));
    }
    reasons.push(if situation.open_assignments == 0 {
        Reason::new("no_open_assignments", "当前没有未完成的任务")
    } else {
        Reason::new(
            "open_assignments",
            format!("当前有 {} 个未完成的任务", situation.open_assignments),
        )
    });
    if situation.served_resident_before {
        reasons.push(Reason::new("served_before", "曾服务过该居民，彼此熟悉"));
    }
    match request.urgency {
        Urgency::Urgent | Urgency::High => reasons.push(Reason::new(
            "urgency_priority",
            format!(
                "{}求助：优先考虑距离近、有空的队伍",
                request.urgency.label()
            ),
        )),
        Urgency::Low => reasons.push(Reason::new(
            "continuity_priority",
            "非紧急求助：优先考虑熟悉该居民的队伍",
        )),
        Urgency::Normal => {}
    }
    Scored { score, reasons }
}

/// Ranks candidates best first; ties go to the nearer team, then to the
/// earlier index so the order is stable.
pub fn rank<T>(mut scored: Vec<(T, f64, Scored)>) -> Vec<(T, f64, Scored)> {
    scored.sort_by(|a, b| b.2.score.total_cmp(&a.2.score).then(a.1.total_cmp(&b.1)));
    scored
}

/// Hard rules and scores for a whole list, as the matches endpoint does
/// after gathering each team's situation; used by the benchmark too.
pub fn rank_teams(
    request: &RequestFacts,
    teams: &[TeamFacts],
    situation_of: impl Fn(usize) -> TeamSituation,
) -> Vec<(usize, f64, Scored)> {
    let scored = teams
        .iter()
        .enumerate()
        .filter_map(|(i, team)| {
            let distance = eligible(request, team)?;
            Some((i, distance, score(request, team, distance, situation_of(i))))
        })
        .collect();
    rank(scored)
}

fn trim_number(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESIDENT: Coordinates = Coordinates {
        lat: 39.9200,
        lng: 116.4000,
    };

    fn request(resident_category: ResidentCategory, urgency: Urgency) -> RequestFacts {
        RequestFacts {
            category: ServiceCategory::HomeVisit,
            resident_category: Some(resident_category),
            resident_location: RESIDENT,
            urgency,
            volunteers_needed: 2,
        }
    }

    /// A team `km_north` kilometres north of the resident.
    fn team(km_north: f64, radius: f64, vetted: bool) -> TeamFacts {
        TeamFacts {
            categories: vec![ServiceCategory::HomeVisit, ServiceCategory::Shopping],
            location: Coordinates {
                lat: RESIDENT.lat + km_north / 111.2,
                lng: RESIDENT.lng,
            },
            service_radius_km: radius,
            vetted,
        }
    }

    #[test]
    fn a_team_without_the_category_is_not_a_match() {
        let mut t = team(1.0, 5.0, true);
        t.categories = vec![ServiceCategory::Repair];
        assert!(
            eligible(
                &request(ResidentCategory::ElderlyAlone, Urgency::Normal),
                &t
            )
            .is_none()
        );
    }

    #[test]
    fn a_resident_outside_the_radius_is_not_a_match() {
        let r = request(ResidentCategory::ElderlyAlone, Urgency::Normal);
        assert!(eligible(&r, &team(6.0, 5.0, true)).is_none());
        let d = eligible(&r, &team(4.0, 5.0, true)).unwrap();
        assert!((d - 4.0).abs() < 0.05, "{d}");
    }

    #[test]
    fn children_and_disabled_residents_need_a_vetted_team() {
        for category in [
            ResidentCategory::LeftBehindChild,
            ResidentCategory::Disabled,
        ] {
            let r = request(category, Urgency::Normal);
            assert!(eligible(&r, &team(1.0, 5.0, false)).is_none());
            assert!(eligible(&r, &team(1.0, 5.0, true)).is_some());
        }
        let elderly = request(ResidentCategory::ElderlyAlone, Urgency::Normal);
        assert!(eligible(&elderly, &team(1.0, 5.0, false)).is_some());
    }

    #[test]
    fn a_community_activity_goes_to_any_team_near_its_place() {
        let activity = RequestFacts {
            resident_category: None,
            ..request(ResidentCategory::ElderlyAlone, Urgency::Normal)
        };
        assert!(eligible(&activity, &team(1.0, 5.0, false)).is_some());
        assert!(eligible(&activity, &team(6.0, 5.0, false)).is_none());
        let scored = score(
            &activity,
            &team(1.0, 5.0, false),
            1.0,
            TeamSituation::default(),
        );
        assert!(scored.reasons.iter().all(|r| r.code != "vetted_team"));
    }

    #[test]
    fn members_who_did_not_turn_up_count_for_less_and_it_is_said() {
        let r = request(ResidentCategory::ElderlyAlone, Urgency::Normal);
        let reliable = TeamSituation {
            available_members: 2,
            ..Default::default()
        };
        let absent = TeamSituation {
            available_members: 2,
            members_with_no_shows: 2,
            no_show_discount: 2.0 - 2.0 * crate::domain::schedule::dependability(1),
            ..Default::default()
        };
        let t = team(1.0, 5.0, false);
        let good = score(&r, &t, 1.0, reliable);
        let worse = score(&r, &t, 1.0, absent);
        assert!(worse.score < good.score, "{} < {}", worse.score, good.score);
        assert!(worse.reasons.iter().any(|r| r.code == "recent_no_shows"
            && r.text.contains("2 人近 90 天有未到场记录")));
        assert!(good.reasons.iter().all(|r| r.code != "recent_no_shows"));
    }

    #[test]
    fn scores_stay_in_the_unit_interval() {
        let r = request(ResidentCategory::ElderlyAlone, Urgency::Urgent);
        let best = TeamSituation {
            available_members: 10,
            open_assignments: 0,
            served_resident_before: true,
            ..Default::default()
        };
        let worst = TeamSituation {
            available_members: 0,
            open_assignments: 50,
            served_resident_before: false,
            ..Default::default()
        };
        let s = score(&r, &team(0.0, 5.0, true), 0.0, best).score;
        assert!(s <= 1.0 && s > 0.9, "{s}");
        let s = score(&r, &team(5.0, 5.0, true), 5.0, worst).score;
        assert!((0.0..0.1).contains(&s), "{s}");
    }

    #[test]
    fn nearer_freer_less_loaded_and_familiar_teams_rank_higher() {
        let r = request(ResidentCategory::ElderlyAlone, Urgency::Normal);
        let teams = vec![
            team(4.0, 5.0, false),
            team(1.0, 5.0, false),
            team(1.0, 5.0, false),
        ];
        let ranked = rank_teams(&r, &teams, |i| match i {
            0 => TeamSituation {
                available_members: 2,
                ..Default::default()
            },
            1 => TeamSituation {
                available_members: 2,
                open_assignments: 3,
                ..Default::default()
            },
            _ => TeamSituation {
                available_members: 2,
                served_resident_before: true,
                ..Default::default()
            },
        });
        let order: Vec<usize> = ranked.iter().map(|(i, _, _)| *i).collect();
        assert_eq!(order, vec![2, 1, 0]);
    }

    #[test]
    fn urgency_changes_what_matters() {
        let near_stranger = (
            team(0.5, 5.0, false),
            TeamSituation {
                available_members: 2,
                ..Default::default()
            },
        );
        let far_friend = (
            team(4.0, 5.0, false),
            TeamSituation {
                available_members: 2,
                served_resident_before: true,
                ..Default::default()
            },
        );
        let pick = |urgency| {
            let r = request(ResidentCategory::ElderlyAlone, urgency);
            let teams = vec![near_stranger.0.clone(), far_friend.0.clone()];
            rank_teams(&r, &teams, |i| {
                if i == 0 {
                    near_stranger.1
                } else {
                    far_friend.1
                }
            })[0]
                .0
        };
        assert_eq!(
            pick(Urgency::Urgent),
            0,
            "urgent work goes to the near team"
        );
        assert_eq!(
            pick(Urgency::Low),
            1,
            "routine work goes to the team that knows the resident"
        );
    }

    #[test]
    fn every_match_explains_itself_with_stable_codes() {
        let r = request(ResidentCategory::LeftBehindChild, Urgency::Urgent);
        let situation = TeamSituation {
            available_members: 3,
            open_assignments: 1,
            served_resident_before: true,
            ..Default::default()
        };
        let s = score(&r, &team(1.2, 3.0, true), 1.2, situation);
        let codes: Vec<&str> = s.reasons.iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            vec![
                "offers_category",
                "within_radius",
                "vetted_team",
                "members_available",
                "open_assignments",
                "served_before",
                "urgency_priority"
            ]
        );
        assert!(
            s.reasons[1].text.contains("1.2 公里"),
            "{}",
            s.reasons[1].text
        );
        assert!(
            s.reasons[1].text.contains("3 公里"),
            "{}",
            s.reasons[1].text
        );
        assert!(s.reasons[3].text.contains("3 名队员"));
    }
}
