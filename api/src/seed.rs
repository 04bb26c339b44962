//! Demo data: `volunteer-service seed --records N` fills the configured
//! database with a community that looks like a real one — teams of every
//! kind, volunteers with Chinese names, skills and weekly availability,
//! residents of every category, help requests in every state, sign-ups,
//! and N approved service records with their history — so that the app,
//! the benchmarks and a demo all have something to show.
//!
//! Generation ([`Community`], [`RecordStream`]) is pure and deterministic
//! (fixed seed); [`seed`] writes it with multi-row inserts through SeaORM,
//! so ids and times are encoded exactly as the app encodes them.
//!
//! Besides the N approved records the data holds what a real database
//! holds: rejected records, pending records waiting for a caseworker, and
//! approved originals replaced by approved corrections. Every record sits
//! in its volunteer's own time slot, so no two of a volunteer's records
//! overlap, and every record's volunteer signed up for its request.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use entity::{
    campaign, help_request, pairing, resident, service_record, service_record_event, signup, team,
    team_member, user,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel,
    Iterable, TransactionTrait,
};
use uuid::Uuid;

use crate::domain::availability::WeeklySlot;
use crate::domain::vocab::{
    AccountStatus, CodeList, MemberRole, MemberStatus, RecordAction, RecordSource, RecordStatus,
    RequestStatus, ResidentCategory, Role, ServiceCategory, SignupStatus, TeamKind, Urgency,
};
use crate::error::{AppError, AppResult};

/// The seeded manager's phone; caseworkers are `1360000xxxx`.
pub const MANAGER_PHONE: &str = "13700000000";
/// The community centre the seeded teams, volunteers and residents surround.
const CENTRE: (f64, f64) = (39.9087, 116.3975);
/// Records of one long-running request (weekly visits for a year, by its
/// three volunteers).
const RECORDS_PER_REQUEST: usize = 50;
const SIGNERS_PER_REQUEST: usize = 3;
/// Rows per transaction while inserting.
const TXN_ROWS: usize = 50_000;

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    /// Approved, current (not superseded) service records.
    pub records: usize,
    /// Volunteers; by default one per thousand records (at least 50).
    pub volunteers: Option<usize>,
    /// Every seeded account's password.
    pub password: String,
    /// "Now": records end before it, open requests start after it.
    pub now: i64,
}

impl SeedPlan {
    fn volunteer_count(&self) -> usize {
        self.volunteers
            .unwrap_or(self.records / 1_000)
            .clamp(50, 50_000)
    }
}

/// What [`seed`] wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub users: usize,
    pub teams: usize,
    pub residents: usize,
    pub requests: usize,
    pub signups: usize,
    /// Pairings; their visits are made by the server's pairing worker.
    pub pairings: usize,
    /// All service records, noise included.
    pub records: usize,
    /// Approved records that count (what statistics and exports show).
    pub approved: usize,
    pub approved_minutes: i64,
    pub history_events: usize,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "沈",
    "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "玉兰", "志强", "淑珍", "海燕", "晓东", "子涵",
    "浩然", "雨桐", "思远", "春梅", "国庆", "卫东", "红梅", "文博", "欣怡", "梓轩", "一鸣",
];

/// Teams of every kind, each with the services it offers.
const TEAMS: &[(&str, TeamKind, &[ServiceCategory])] = {
    use ServiceCategory::*;
    &[
        (
            "幸福里学雷锋志愿服务队",
            TeamKind::LeiFeng,
            &[HomeVisit, Companionship, Shopping],
        ),
        (
            "和平街邻里守望队",
            TeamKind::NeighborhoodWatch,
            &[HomeVisit, Companionship, Repair],
        ),
        (
            "在职党员进社区服务队",
            TeamKind::PartyMember,
            &[MealDelivery, Housekeeping, HomeVisit],
        ),
        (
            "仁心医护志愿服务队",
            TeamKind::Professional,
            &[MedicalEscort, PsychologicalSupport],
        ),
        (
            "法律明白人服务队",
            TeamKind::Professional,
            &[LegalAid, Other],
        ),
        (
            "银龄互助队",
            TeamKind::Other,
            &[Companionship, MealDelivery, Shopping],
        ),
        (
            "青春护航课业辅导队",
            TeamKind::LeiFeng,
            &[Tutoring, Companionship],
        ),
        (
            "巧手维修志愿服务队",
            TeamKind::NeighborhoodWatch,
            &[Repair, Housekeeping],
        ),
    ]
};

const REQUEST_TITLES: &[(ServiceCategory, &str, &str)] = {
    use ServiceCategory::*;
    &[
        (
            HomeVisit,
            "每周上门探访",
            "独居老人，子女在外地，需要每周上门看看",
        ),
        (
            Companionship,
            "陪老人聊天散步",
            "老人行动不便，希望有人陪着下楼走走",
        ),
        (Housekeeping, "帮忙打扫卫生", "残疾人家庭，需要每周打扫一次"),
        (MealDelivery, "午餐送餐上门", "从社区食堂送午餐到家"),
        (
            MedicalEscort,
            "陪同去医院复诊",
            "需要有人陪同去区医院复诊、取药",
        ),
        (Shopping, "代购米面油", "腿脚不便，需要代购日常生活用品"),
        (Repair, "修理水龙头和灯", "家里水龙头漏水，卫生间灯不亮"),
        (Tutoring, "周末课业辅导", "留守儿童，需要数学和语文辅导"),
        (
            PsychologicalSupport,
            "心理疏导陪伴",
            "老伴去世后情绪低落，需要有人倾听",
        ),
        (LegalAid, "赡养纠纷法律咨询", "需要了解赡养费相关的法律规定"),
        (Other, "协助办理证件", "需要陪同到街道办事处办理手续"),
    ]
};

fn chinese_name(rng: &mut StdRng) -> String {
    let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())];
    let given = GIVEN[rng.gen_range(0..GIVEN.len())];
    format!("{surname}{given}")
}

/// A distinct, valid mainland mobile number for volunteer `i` (the
/// load generators log the seeded volunteers in by it).
pub fn volunteer_phone(i: usize) -> String {
    let prefix = ["138", "158", "186", "199", "177"][i % 5];
    format!("{prefix}{:08}", i / 5)
}

/// Caseworker `i`'s phone; a seed holds at least four caseworkers (one
/// per hundred volunteers).
pub fn caseworker_phone(i: usize) -> String {
    format!("1360000{i:04}")
}

fn near_centre(rng: &mut StdRng, spread_deg: f64) -> (f64, f64) {
    (
        CENTRE.0 + rng.gen_range(-spread_deg..spread_deg),
        CENTRE.1 + rng.gen_range(-spread_deg..spread_deg),
    )
}

fn weekly_slots(rng: &mut StdRng) -> String {
    let count = rng.gen_range(1..=3);
    let slots: Vec<WeeklySlot> = (0..count)
        .map(|k| {
            let weekday = ((rng.gen_range(0..7) + k * 2) % 7 + 1) as u8;
            let (start, end) =
                [("09:00", "12:00"), ("14:00", "17:30"), ("19:00", "21:00")][rng.gen_range(0..3)];
            WeeklySlot {
                weekday,
                start: start.into(),
                end: end.into(),
            }
        })
        .collect();
    serde_json::to_string(&slots).unwrap_or_else(|_| "[]".into())
}

fn categories(categories: &[ServiceCategory]) -> CodeList<ServiceCategory> {
    CodeList(categories.to_vec())
}

/// Everyone and everything but the service records.
pub struct Community {
    pub users: Vec<user::Model>,
    pub teams: Vec<team::Model>,
    pub members: Vec<team_member::Model>,
    pub residents: Vec<resident::Model>,
    pub campaigns: Vec<campaign::Model>,
    pub requests: Vec<help_request::Model>,
    pub signups: Vec<signup::Model>,
    pub pairings: Vec<pairing::Model>,
    /// Per long-running (completed) request: its caseworker, team and the
    /// volunteers who signed up, who share its records.
    served: Vec<Served>,
    rng: StdRng,
    now: i64,
    volunteers: usize,
    records: usize,
}

struct Served {
    request: Uuid,
    team: Uuid,
    caseworker: Uuid,
    signers: [(usize, Uuid); SIGNERS_PER_REQUEST],
}

impl Community {
    /// `taken`: phones already in the database (administrators), which
    /// the generated accounts avoid.
    pub fn generate(plan: &SeedPlan, password_hash: &str, taken: &HashSet<String>) -> Self {
        let mut rng = StdRng::seed_from_u64(20_261_129);
        let now = plan.now;
        let created = now - 400 * 86_400;
        let user = |id, phone: String, name: String, role: Role| user::Model {
            id,
            phone,
            password_hash: password_hash.to_string(),
            name,
            role,
            skills: CodeList::default(),
            location_lat: None,
            location_lng: None,
            availability: "[]".into(),
            created_at: created,
            status: AccountStatus::Active,
            vetted_until: None,
            token_version: 0,
            // Counted from the records once they are in (`seed`).
            approved_minutes: 0,
        };
        // Every seeded team is vetted, so every seeded volunteer carries a
        // background check valid for a year from the seed.
        let vetted_until =
            chrono::DateTime::from_timestamp(now + 365 * 86_400, 0).map(|at| at.date_naive());

        let mut next_phone = 0;
        let mut free_volunteer_phone = || loop {
            let phone = volunteer_phone(next_phone);
            next_phone += 1;
            if !taken.contains(&phone) {
                return phone;
            }
        };
        let mut users = vec![user(
            Uuid::now_v7(),
            MANAGER_PHONE.into(),
            "赵主任".into(),
            Role::Manager,
        )];
        let volunteer_count = plan.volunteer_count();
        let caseworkers: Vec<Uuid> = (0..(volunteer_count / 100).clamp(4, 100))
            .map(|i| {
                let id = Uuid::now_v7();
                users.push(user(
                    id,
                    caseworker_phone(i),
                    chinese_name(&mut rng),
                    Role::Caseworker,
                ));
                id
            })
            .collect();

        let teams: Vec<team::Model> = TEAMS
            .iter()
            .enumerate()
            .map(|(i, (name, kind, categories))| {
                let (lat, lng) = near_centre(&mut rng, 0.01);
                team::Model {
                    id: Uuid::now_v7(),
                    name: (*name).into(),
                    kind: *kind,
                    service_categories: self::categories(categories),
                    location_lat: lat,
                    location_lng: lng,
                    service_radius_km: [3.0, 5.0, 2.0, 8.0][i % 4],
                    vetted: true,
                    created_at: created,
                }
            })
            .collect();

        // Volunteer i belongs to team i % teams; the first of each team leads.
        let mut volunteers = Vec::with_capacity(volunteer_count);
        let mut members = Vec::with_capacity(volunteer_count);
        for i in 0..volunteer_count {
            let id = Uuid::now_v7();
            let team = &teams[i % teams.len()];
            let (lat, lng) = near_centre(&mut rng, 0.02);
            let skills = &TEAMS[i % TEAMS.len()].2;
            users.push(user::Model {
                skills: categories(&skills[..rng.gen_range(1..=skills.len())]),
                location_lat: Some(lat),
                location_lng: Some(lng),
                availability: weekly_slots(&mut rng),
                vetted_until,
                ..user(
                    id,
                    free_volunteer_phone(),
                    chinese_name(&mut rng),
                    Role::Volunteer,
                )
            });
            members.push(team_member::Model {
                team_id: team.id,
                user_id: id,
                role: if i < teams.len() {
                    MemberRole::Leader
                } else {
                    MemberRole::Member
                },
                joined_at: created,
                status: MemberStatus::Active,
            });
            volunteers.push(id);
        }

        let resident_count = (volunteer_count * 2).clamp(100, 20_000);
        let residents: Vec<resident::Model> = (0..resident_count)
            .map(|i| {
                let category = ResidentCategory::ALL[i % ResidentCategory::ALL.len()];
                let (lat, lng) = near_centre(&mut rng, 0.015);
                let child = category == ResidentCategory::LeftBehindChild;
                resident::Model {
                    id: Uuid::now_v7(),
                    name: chinese_name(&mut rng),
                    category,
                    phone: (!child).then(|| format!("135{:08}", i)),
                    address: format!(
                        "幸福里小区{}号楼{}单元{}室",
                        i % 30 + 1,
                        i % 4 + 1,
                        101 + (i * 7) % 600
                    ),
                    location_lat: lat,
                    location_lng: lng,
                    id_number_masked: (i % 3 == 0)
                        .then(|| format!("110***********{:04}", i % 10_000)),
                    guardian_name: child.then(|| chinese_name(&mut rng)),
                    guardian_phone: child.then(|| format!("133{:08}", i)),
                    notes: (category == ResidentCategory::Disabled)
                        .then(|| "肢体残疾，上下楼需搀扶".into()),
                    active: true,
                    created_by: caseworkers[i % caseworkers.len()],
                    created_at: created,
                }
            })
            .collect();

        let mut community = Community {
            users,
            teams,
            members,
            residents,
            campaigns: Vec::new(),
            requests: Vec::new(),
            signups: Vec::new(),
            pairings: Vec::new(),
            served: Vec::new(),
            rng,
            now,
            volunteers: volunteer_count,
            records: plan.records,
        };
        community.add_requests(&caseworkers, &volunteers);
        community.add_campaign_and_activities();
        community.add_pairings(&caseworkers);
        community
    }

    /// A few pairings (结对帮扶), one per team: each with a resident the
    /// team may serve and the team's first member as regular volunteer.
    /// `generated_until` is 0, so the server's worker makes their visits
    /// when it starts, as it would for pairings made through the API.
    fn add_pairings(&mut self, caseworkers: &[Uuid]) {
        const RULES: [&str; 3] = [
            "FREQ=WEEKLY;BYDAY=TU,FR",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
            "FREQ=MONTHLY;BYMONTHDAY=1",
        ];
        let today = chrono::DateTime::from_timestamp(self.now, 0)
            .unwrap_or_default()
            .date_naive();
        for (i, team) in self.teams.iter().enumerate().take(5) {
            let Some(resident) = self
                .residents
                .iter()
                .skip(i * 7)
                .find(|r| team.vetted || !r.category.needs_vetted_team())
            else {
                continue;
            };
            let regular = self
                .members
                .iter()
                .find(|m| m.team_id == team.id && m.role == MemberRole::Member)
                .map(|m| m.user_id);
            let category = team
                .service_categories
                .clone()
                .into_vec()
                .first()
                .copied()
                .unwrap_or(ServiceCategory::HomeVisit);
            self.pairings.push(pairing::Model {
                id: Uuid::now_v7(),
                resident_id: resident.id,
                team_id: team.id,
                caseworker_id: caseworkers[i % caseworkers.len()],
                category,
                title: "结对帮扶：定期上门探访".into(),
                description: "固定志愿者按时上门，陪伴并了解近况".into(),
                rrule: RULES[i % RULES.len()].into(),
                start_time: "09:30".into(),
                duration_minutes: 90,
                volunteers_needed: 2,
                starts_on: today,
                regular_volunteer_ids: serde_json::to_string(
                    &regular.into_iter().collect::<Vec<_>>(),
                )
                .unwrap_or_else(|_| "[]".into()),
                active: true,
                generated_until: 0,
                created_at: self.now,
                updated_at: self.now,
            });
        }
    }

    /// Last autumn's 重阳节 campaign — a visit to every elderly resident
    /// living alone, spread over the teams that make home visits — and a
    /// few community activities: a past 学雷锋日 stall, a clean-up and a
    /// health talk to come.
    fn add_campaign_and_activities(&mut self) {
        let Some(manager) = self.users.iter().find(|u| u.role == Role::Manager) else {
            return;
        };
        let manager = manager.id;
        let starts = self.now - 50 * 86_400 + 9 * 3_600;
        let ends = starts + 2 * 3_600;
        let campaign = campaign::Model {
            id: Uuid::now_v7(),
            name: "重阳节敬老活动".into(),
            resident_categories: CodeList(vec![ResidentCategory::ElderlyAlone]),
            category: ServiceCategory::HomeVisit,
            title: "重阳节上门送温暖".into(),
            description: "送重阳糕，陪老人聊聊天".into(),
            starts_at: starts,
            ends_at: ends,
            volunteers_per_request: 2,
            created_by: manager,
            created_at: starts - 14 * 86_400,
        };
        let visiting: Vec<Uuid> = self
            .teams
            .iter()
            .filter(|t| {
                t.service_categories
                    .iter()
                    .any(|c| *c == ServiceCategory::HomeVisit)
            })
            .map(|t| t.id)
            .collect();
        let elderly: Vec<Uuid> = self
            .residents
            .iter()
            .filter(|r| r.active && r.category == ResidentCategory::ElderlyAlone)
            .map(|r| r.id)
            .collect();
        for (i, resident) in elderly.into_iter().enumerate() {
            // One visit in ten fell through (the resident was away).
            let status = if i % 10 == 9 {
                RequestStatus::Cancelled
            } else {
                RequestStatus::Completed
            };
            self.requests.push(help_request::Model {
                resident_id: Some(resident),
                team_id: visiting.get(i % visiting.len().max(1)).copied(),
                campaign_id: Some(campaign.id),
                ..self.seeded_request(
                    &campaign.title,
                    &campaign.description,
                    manager,
                    starts,
                    status,
                )
            });
        }
        self.campaigns.push(campaign);

        let activities = [
            (
                "学雷锋日便民服务摊位",
                "社区文化广场",
                -300,
                RequestStatus::Completed,
            ),
            ("家园清洁行动", "社区中心花园", 10, RequestStatus::Open),
            (
                "健康知识宣传讲座",
                "社区活动中心二楼",
                20,
                RequestStatus::Open,
            ),
        ];
        for (i, (title, address, days, status)) in activities.into_iter().enumerate() {
            let starts = self.now + days * 86_400 + 9 * 3_600;
            let (lat, lng) = near_centre(&mut self.rng, 0.005);
            self.requests.push(help_request::Model {
                category: ServiceCategory::Other,
                volunteers_needed: 30,
                team_id: (status == RequestStatus::Completed)
                    .then(|| self.teams.get(i).map(|t| t.id))
                    .flatten(),
                location_lat: Some(lat),
                location_lng: Some(lng),
                address: Some(address.into()),
                ..self.seeded_request(title, "欢迎居民参加", manager, starts, status)
            });
        }
    }

    /// A request of the campaign or an activity: two hours from `starts`.
    fn seeded_request(
        &self,
        title: &str,
        description: &str,
        caseworker: Uuid,
        starts: i64,
        status: RequestStatus,
    ) -> help_request::Model {
        help_request::Model {
            id: Uuid::now_v7(),
            resident_id: None,
            caseworker_id: caseworker,
            category: ServiceCategory::HomeVisit,
            title: title.into(),
            description: description.into(),
            starts_at: starts,
            ends_at: starts + 2 * 3_600,
            volunteers_needed: 2,
            signups_count: 0,
            urgency: Urgency::Normal,
            status,
            team_id: None,
            created_at: starts.min(self.now) - 14 * 86_400,
            updated_at: starts.min(self.now),
            pairing_id: None,
            occurrence_at: None,
            campaign_id: None,
            location_lat: None,
            location_lng: None,
            reminder_sent_at: (starts <= self.now).then_some(self.now),
            unfilled_sent_at: (starts <= self.now).then_some(self.now),
            no_shows_settled_at: (starts <= self.now).then_some(self.now),
            address: None,
        }
    }

    /// Long-running completed requests carrying the records, and a few in
    /// every other state: open (no team yet), assigned with places left,
    /// in progress, cancelled.
    fn add_requests(&mut self, caseworkers: &[Uuid], volunteers: &[Uuid]) {
        let served = self.records.div_ceil(RECORDS_PER_REQUEST).max(1);
        let extra = (served / 20).max(8);
        let team_count = self.teams.len();
        for r in 0..served + extra {
            let rng = &mut self.rng;
            let team_index = r % team_count;
            let team = &self.teams[team_index];
            let offered = TEAMS[team_index].2;
            let category = offered[rng.gen_range(0..offered.len())];
            let (_, title, description) = REQUEST_TITLES
                .iter()
                .find(|(c, _, _)| *c == category)
                .copied()
                .unwrap_or((category, "上门探访", "需要志愿者上门"));
            let resident = &self.residents[rng.gen_range(0..self.residents.len())];
            let caseworker = caseworkers[r % caseworkers.len()];
            let (status, starts_at, ends_at, team_id, needed, signed) = if r < served {
                let starts = self.now - 366 * 86_400;
                (
                    RequestStatus::Completed,
                    starts,
                    self.now - 86_400,
                    Some(team.id),
                    3,
                    3,
                )
            } else {
                let starts = self.now + rng.gen_range(1..30) * 86_400 + 9 * 3_600;
                let ends = starts + 2 * 3_600;
                match (r - served) % 4 {
                    0 => (RequestStatus::Open, starts, ends, None, 2, 0),
                    1 | 2 => (RequestStatus::Assigned, starts, ends, Some(team.id), 3, 1),
                    _ => (RequestStatus::Cancelled, starts, ends, None, 2, 0),
                }
            };
            let id = Uuid::now_v7();
            let urgency = [
                Urgency::Normal,
                Urgency::Normal,
                Urgency::Low,
                Urgency::High,
                Urgency::Urgent,
            ][r % 5];
            self.requests.push(help_request::Model {
                id,
                resident_id: Some(resident.id),
                caseworker_id: caseworker,
                category,
                title: title.into(),
                description: description.into(),
                starts_at,
                ends_at,
                volunteers_needed: needed,
                signups_count: signed,
                urgency,
                status,
                team_id,
                created_at: starts_at.min(self.now) - 3 * 86_400,
                updated_at: starts_at.min(self.now),
                pairing_id: None,
                occurrence_at: None,
                campaign_id: None,
                location_lat: None,
                location_lng: None,
                address: None,
                // Past visits were handled when they happened; the
                // scheduler finds only what is due from now on.
                reminder_sent_at: (starts_at <= self.now).then_some(self.now),
                unfilled_sent_at: (starts_at <= self.now).then_some(self.now),
                no_shows_settled_at: (starts_at <= self.now).then_some(self.now),
            });
            // The team's members in turn: member k of team t is volunteer
            // t + k·teams, and every team has at least three.
            let team_size = (self.volunteers - team_index).div_ceil(team_count);
            let signers: Vec<(usize, Uuid)> = (0..signed as usize)
                .map(|j| {
                    let k = (r / team_count * SIGNERS_PER_REQUEST + j) % team_size;
                    let v = team_index + k * team_count;
                    (v, volunteers[v])
                })
                .collect();
            for (_, volunteer) in &signers {
                self.signups.push(signup::Model {
                    id: Uuid::now_v7(),
                    request_id: id,
                    volunteer_id: *volunteer,
                    team_id: team.id,
                    created_at: starts_at.min(self.now) - 86_400,
                    status: SignupStatus::SignedUp,
                    status_changed_at: None,
                });
            }
            if r < served
                && let Ok(signers) = <[(usize, Uuid); SIGNERS_PER_REQUEST]>::try_from(signers)
            {
                self.served.push(Served {
                    request: id,
                    team: team.id,
                    caseworker,
                    signers,
                });
            }
        }
    }

    /// The service records, in batches.
    pub fn records(self) -> RecordStream {
        // Each volunteer's records go in consecutive slots over the past
        // year, the last ending before now; a slot is long enough for the
        // longest record. The slots each volunteer takes are counted
        // first (the same rule `next_batch` follows), so that the busiest
        // volunteer's slots span the year and a small seed still covers
        // every recent month (the console's "this year" and its charts).
        let mut taken = vec![0i64; self.volunteers];
        for i in 0..self.records {
            let Some(served) = self
                .served
                .get((i / RECORDS_PER_REQUEST).min(self.served.len().saturating_sub(1)))
            else {
                break;
            };
            let (v, _) = served.signers[i % SIGNERS_PER_REQUEST];
            taken[v] += 1 + i64::from(i % 100 == 42) + i64::from(i % 250 == 13);
        }
        let busiest = taken.into_iter().max().unwrap_or(0).max(1);
        let slot_secs = (365 * 86_400 / busiest).clamp(20 * 60, 7 * 86_400);
        RecordStream {
            slot_secs,
            first_slot: self.now - busiest * slot_secs,
            next_slot: vec![0; self.volunteers],
            served: self.served,
            rng: self.rng,
            next: 0,
            total: self.records,
        }
    }
}

/// Generates the service records and their history, a batch at a time.
pub struct RecordStream {
    slot_secs: i64,
    first_slot: i64,
    next_slot: Vec<i64>,
    served: Vec<Served>,
    rng: StdRng,
    next: usize,
    total: usize,
}

/// One batch of records with their history events.
#[derive(Default)]
pub struct RecordBatch {
    pub records: Vec<service_record::Model>,
    pub events: Vec<service_record_event::Model>,
    pub approved: usize,
    pub approved_minutes: i64,
}

impl RecordStream {
    /// Up to `n` approved records (plus the noise that comes with them);
    /// `None` once all are out.
    pub fn next_batch(&mut self, n: usize) -> Option<RecordBatch> {
        if self.next >= self.total || self.served.is_empty() {
            return None;
        }
        let mut batch = RecordBatch::default();
        let end = (self.next + n).min(self.total);
        for i in self.next..end {
            let served = &self.served[(i / RECORDS_PER_REQUEST).min(self.served.len() - 1)];
            let (v, volunteer) = served.signers[i % SIGNERS_PER_REQUEST];
            let max_minutes = (self.slot_secs / 60 - 10).clamp(10, 240);
            let minutes = self.rng.gen_range(10.min(max_minutes)..=max_minutes);
            let paper = i % 3 == 0;
            let mut slot = || {
                let start = self.first_slot + self.next_slot[v] * self.slot_secs;
                self.next_slot[v] += 1;
                start
            };
            let record = |start: i64, minutes: i64, status: RecordStatus, rng: &mut StdRng| {
                let end = start + minutes * 60;
                let reviewed = status != RecordStatus::Pending;
                service_record::Model {
                    id: Uuid::now_v7(),
                    volunteer_id: volunteer,
                    request_id: served.request,
                    team_id: served.team,
                    started_at: start,
                    ended_at: Some(end),
                    minutes: Some(minutes as i32),
                    status,
                    source: if paper {
                        RecordSource::Paper
                    } else {
                        RecordSource::Phone
                    },
                    note: None,
                    recorder_id: if paper { served.caseworker } else { volunteer },
                    check_in_distance_m: (!paper).then(|| rng.gen_range(5.0..900.0)),
                    check_out_distance_m: (!paper).then(|| rng.gen_range(5.0..900.0)),
                    supersedes_id: None,
                    reviewed_by: reviewed.then_some(served.caseworker),
                    reviewed_at: reviewed.then_some(end + 3_600),
                    reject_reason: None,
                    created_at: end,
                }
            };

            let start = slot();
            let mut approved = record(start, minutes, RecordStatus::Approved, &mut self.rng);
            if i % 200 == 7 {
                // An approved original, corrected by a new approved record.
                let original = record(start, minutes + 5, RecordStatus::Approved, &mut self.rng);
                approved.supersedes_id = Some(original.id);
                approved.note = Some("更正：结束时间填写有误".into());
                approved.source = RecordSource::Paper;
                approved.recorder_id = served.caseworker;
                push_with_history(&mut batch, original);
            }
            batch.approved += 1;
            batch.approved_minutes += minutes;
            push_with_history(&mut batch, approved);
            if i % 100 == 42 {
                let mut rejected = record(slot(), minutes, RecordStatus::Rejected, &mut self.rng);
                rejected.reject_reason = Some("签到位置与服务地址不符".into());
                push_with_history(&mut batch, rejected);
            }
            if i % 250 == 13 {
                push_with_history(
                    &mut batch,
                    record(slot(), minutes, RecordStatus::Pending, &mut self.rng),
                );
            }
        }
        self.next = end;
        Some(batch)
    }
}

/// The record and the history the app would have written for it.
fn push_with_history(batch: &mut RecordBatch, record: service_record::Model) {
    let event = |action: RecordAction, actor: Uuid, at: i64, reason: Option<String>| {
        service_record_event::Model {
            id: Uuid::now_v7(),
            record_id: record.id,
            action,
            actor_id: actor,
            reason,
            at,
        }
    };
    let ended = record.ended_at.unwrap_or(record.started_at);
    if record.source == RecordSource::Paper {
        batch.events.push(event(
            RecordAction::Created,
            record.recorder_id,
            record.created_at,
            None,
        ));
    } else {
        batch.events.push(event(
            RecordAction::CheckedIn,
            record.volunteer_id,
            record.started_at,
            None,
        ));
        batch.events.push(event(
            RecordAction::CheckedOut,
            record.volunteer_id,
            ended,
            None,
        ));
    }
    if let (Some(reviewer), Some(at)) = (record.reviewed_by, record.reviewed_at) {
        batch.events.push(event(
            if record.status == RecordStatus::Rejected {
                RecordAction::Rejected
            } else {
                RecordAction::Approved
            },
            reviewer,
            at,
            record.reject_reason.clone(),
        ));
    }
    batch.records.push(record);
}

/// Inserts in multi-row statements sized under SQLite's 32,766 and
/// PostgreSQL's 65,535 bind parameters, committing every [`TXN_ROWS`].
async fn insert_all<M, A>(db: &DatabaseConnection, rows: Vec<M>) -> AppResult<()>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait + Send,
{
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count();
    let chunk = (30_000 / columns.max(1)).max(1);
    let mut rows = rows
        .into_iter()
        .map(IntoActiveModel::into_active_model)
        .peekable();
    while rows.peek().is_some() {
        let txn = db.begin().await?;
        for _ in 0..TXN_ROWS.div_ceil(chunk) {
            let statement: Vec<A> = rows.by_ref().take(chunk).collect();
            if statement.is_empty() {
                break;
            }
            <A::Entity as EntityTrait>::insert_many(statement)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    Ok(())
}

/// Writes the demo community into `db` (already migrated). Refuses a
/// database that already holds anyone but administrators.
pub async fn seed(db: &DatabaseConnection, plan: &SeedPlan) -> AppResult<SeedReport> {
    let existing = user::Entity::find().all(db).await?;
    if existing.iter().any(|u| u.role != Role::Admin) {
        return Err(AppError::conflict(
            "database_not_empty",
            "the database already has users; seed an empty one",
        ));
    }
    if db.get_database_backend() == DbBackend::Sqlite {
        // Demo data can be seeded again; skip the fsync per commit.
        db.execute_unprepared("PRAGMA synchronous=OFF").await?;
    }
    let hash = crate::auth::hash_password(&crate::auth::HashGate::new(1, 0), plan.password.clone())
        .await?;
    let admin_phones: HashSet<String> = existing.into_iter().map(|u| u.phone).collect();
    if admin_phones.contains(MANAGER_PHONE) {
        return Err(AppError::conflict(
            "database_not_empty",
            format!("an administrator already uses the seeded manager's phone {MANAGER_PHONE}"),
        ));
    }
    let community = Community::generate(plan, &hash, &admin_phones);
    let mut report = SeedReport {
        users: community.users.len(),
        teams: community.teams.len(),
        residents: community.residents.len(),
        requests: community.requests.len(),
        signups: community.signups.len(),
        pairings: community.pairings.len(),
        ..SeedReport::default()
    };
    let mut community = community;
    insert_all(db, std::mem::take(&mut community.users)).await?;
    insert_all(db, std::mem::take(&mut community.teams)).await?;
    insert_all(db, std::mem::take(&mut community.members)).await?;
    insert_all(db, std::mem::take(&mut community.residents)).await?;
    insert_all(db, std::mem::take(&mut community.campaigns)).await?;
    insert_all(db, std::mem::take(&mut community.requests)).await?;
    insert_all(db, std::mem::take(&mut community.signups)).await?;
    insert_all(db, std::mem::take(&mut community.pairings)).await?;

    let mut stream = community.records();
    let mut last_report = Instant::now();
    while let Some(batch) = stream.next_batch(TXN_ROWS / 2) {
        report.records += batch.records.len();
        report.history_events += batch.events.len();
        report.approved += batch.approved;
        report.approved_minutes += batch.approved_minutes;
        insert_all(db, batch.records).await?;
        insert_all(db, batch.events).await?;
        if last_report.elapsed() > Duration::from_secs(10) {
            tracing::info!(approved = report.approved, "seeding service records");
            last_report = Instant::now();
        }
    }
    // The records went in directly, not through reviews.
    crate::service::accounts::recount_approved_minutes(db).await?;
    // Planner statistics (and on PostgreSQL the visibility map), so the
    // first reader does not pay for them.
    let analyze = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(analyze).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::domain::phone::Phone;

    fn plan(records: usize) -> SeedPlan {
        SeedPlan {
            records,
            volunteers: None,
            password: "demo-password".into(),
            now: 1_790_000_000,
        }
    }

    /// The sign-ups and every record (with history) of a plan.
    fn all_records(records: usize) -> (Vec<signup::Model>, RecordBatch) {
        let community = Community::generate(&plan(records), "hash", &HashSet::new());
        let signups = community.signups.clone();
        let mut stream = community.records();
        let mut all = RecordBatch::default();
        while let Some(batch) = stream.next_batch(777) {
            all.records.extend(batch.records);
            all.events.extend(batch.events);
            all.approved += batch.approved;
            all.approved_minutes += batch.approved_minutes;
        }
        (signups, all)
    }

    #[test]
    fn the_community_has_every_kind_of_team_resident_and_request() {
        let community = Community::generate(&plan(5_000), "hash", &HashSet::new());
        let kinds: HashSet<TeamKind> = community.teams.iter().map(|t| t.kind).collect();
        assert_eq!(kinds.len(), TeamKind::ALL.len());
        // A past campaign, and community activities with a place of their own.
        assert_eq!(community.campaigns.len(), 1);
        let campaign = community.campaigns[0].id;
        let visits = community
            .requests
            .iter()
            .filter(|r| r.campaign_id == Some(campaign))
            .count();
        assert!(visits > 10, "{visits}");
        let activities = community
            .requests
            .iter()
            .filter(|r| r.resident_id.is_none() && r.address.is_some() && r.location_lat.is_some())
            .count();
        assert_eq!(activities, 3);
        let categories: HashSet<ResidentCategory> =
            community.residents.iter().map(|r| r.category).collect();
        assert_eq!(categories.len(), ResidentCategory::ALL.len());
        let statuses: HashSet<RequestStatus> =
            community.requests.iter().map(|r| r.status).collect();
        for status in [
            RequestStatus::Open,
            RequestStatus::Assigned,
            RequestStatus::Completed,
            RequestStatus::Cancelled,
        ] {
            assert!(statuses.contains(&status), "no {status} request");
        }
        assert!(community.pairings.len() >= 3, "a few pairings");
        let teams: HashMap<Uuid, &team::Model> =
            community.teams.iter().map(|t| (t.id, t)).collect();
        for pairing in &community.pairings {
            let resident = community
                .residents
                .iter()
                .find(|r| r.id == pairing.resident_id)
                .unwrap();
            assert!(
                teams[&pairing.team_id].vetted || !resident.category.needs_vetted_team(),
                "a pairing keeps the vetting rule of requests"
            );
        }
        let phones: HashSet<&str> = community.users.iter().map(|u| u.phone.as_str()).collect();
        assert_eq!(phones.len(), community.users.len(), "phones are unique");
        assert!(
            community
                .users
                .iter()
                .all(|u| Phone::parse(&u.phone).is_ok())
        );
        assert!(
            community
                .users
                .iter()
                .any(|u| u.name.chars().all(|c| !c.is_ascii()))
        );
    }

    #[test]
    fn a_small_seed_spreads_its_records_over_the_past_year() {
        for records in [2_000, 20_000] {
            let (_, batch) = all_records(records);
            let now = plan(records).now;
            let first = batch.records.iter().map(|r| r.started_at).min().unwrap();
            let last = batch
                .records
                .iter()
                .filter_map(|r| r.ended_at)
                .max()
                .unwrap();
            assert!(first >= now - 366 * 86_400, "within the past year");
            assert!(last <= now, "nothing in the future");
            assert!(
                now - last < 14 * 86_400,
                "the last records are recent: {} days ago",
                (now - last) / 86_400
            );
            assert!(
                last - first > 300 * 86_400,
                "the records cover the year, not its first month: {} days",
                (last - first) / 86_400
            );
        }
    }

    #[test]
    fn generated_phones_avoid_the_administrators() {
        let taken: HashSet<String> = [volunteer_phone(0), volunteer_phone(1)].into();
        let community = Community::generate(&plan(100), "hash", &taken);
        assert!(community.users.iter().all(|u| !taken.contains(&u.phone)));
    }

    #[test]
    fn exactly_the_planned_approved_records_and_none_overlap() {
        let (signups, batch) = all_records(3_000);
        let records = &batch.records;
        let current_approved = records
            .iter()
            .filter(|r| r.status == RecordStatus::Approved)
            .filter(|r| !records.iter().any(|c| c.supersedes_id == Some(r.id)))
            .count();
        assert_eq!(current_approved, 3_000);
        assert_eq!(batch.approved, 3_000);
        assert!(records.iter().any(|r| r.status == RecordStatus::Rejected));
        assert!(records.iter().any(|r| r.status == RecordStatus::Pending));
        assert!(
            records
                .iter()
                .all(|r| r.ended_at.unwrap_or(0) < 1_790_000_000)
        );

        let mut by_volunteer: HashMap<Uuid, Vec<(i64, i64)>> = HashMap::new();
        // As the app counts overlap: a corrected original gives way to its
        // correction, and rejected records do not count.
        let superseded: HashSet<Uuid> = records.iter().filter_map(|r| r.supersedes_id).collect();
        for r in records
            .iter()
            .filter(|r| r.status != RecordStatus::Rejected && !superseded.contains(&r.id))
        {
            by_volunteer
                .entry(r.volunteer_id)
                .or_default()
                .push((r.started_at, r.ended_at.unwrap_or(r.started_at)));
        }
        for spans in by_volunteer.values_mut() {
            spans.sort();
            assert!(
                spans.windows(2).all(|w| w[0].1 <= w[1].0),
                "records overlap"
            );
        }
        let signed: HashSet<(Uuid, Uuid)> = signups
            .iter()
            .map(|s| (s.request_id, s.volunteer_id))
            .collect();
        assert!(
            records
                .iter()
                .all(|r| signed.contains(&(r.request_id, r.volunteer_id))),
            "every record's volunteer signed up for its request"
        );
        let history: HashSet<Uuid> = batch.events.iter().map(|e| e.record_id).collect();
        assert!(records.iter().all(|r| history.contains(&r.id)));
    }
}
