//! The closed vocabularies of the contract: roles, team kinds, service and
//! resident categories, urgencies and statuses, each with its wire code and
//! its Chinese label. The wire code is also what the database column holds,
//! so entities carry these enums directly: a stray stored value is refused
//! when the row is read, never half-way through building an answer.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        // The columns were created as plain strings (`string()` in the
        // migrations), so the enum maps to that type: no migration needed.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter,
            DeriveActiveEnum,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(#[serde(rename = $code)] #[sea_orm(string_value = $code)] $variant,)+
        }

        // Written out rather than derived: the derive cannot see renames
        // that reach it through a macro fragment, and would document the
        // Rust variant names instead of the wire codes.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
                let labels: Vec<String> =
                    vec![$(format!("`{}` {}", $code, $label)),+];
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .enum_values(Some([$($code),+]))
                    .description(Some(labels.join(", ")))
                    .into()
            }
        }

        impl ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire and database code, for texts and exports that print it.
            pub fn code(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            /// A readable Chinese name.
            pub fn label(self) -> &'static str {
                match self { $(Self::$variant => $label,)+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary! {
    /// Where a webhook delivery stands.
    DeliveryStatus {
        Pending => "pending", "待发送";
        Delivered => "delivered", "已送达";
        Failed => "failed", "失败";
    }
}

vocabulary! {
    /// What happened to a service record, in its history.
    RecordAction {
        Created => "created", "登记";
        CheckedIn => "checked_in", "签到";
        CheckedOut => "checked_out", "签退";
        Approved => "approved", "通过";
        Rejected => "rejected", "驳回";
        Corrected => "corrected", "更正";
    }
}

vocabulary! {
    /// An account's role.
    Role {
        Volunteer => "volunteer", "志愿者";
        Caseworker => "caseworker", "社工";
        Manager => "manager", "管理员";
        Admin => "admin", "系统管理员";
    }
}

vocabulary! {
    /// Whether an account may be used.
    AccountStatus {
        Active => "active", "正常";
        Disabled => "disabled", "已停用";
    }
}

impl Role {
    /// Managers and admins run the community; an admin may do all a manager may.
    pub fn is_manager(self) -> bool {
        matches!(self, Self::Manager | Self::Admin)
    }

    /// Caseworkers, managers and admins look after residents.
    pub fn is_staff(self) -> bool {
        !matches!(self, Self::Volunteer)
    }
}

vocabulary! {
    /// A team's kind.
    TeamKind {
        LeiFeng => "lei_feng", "学雷锋志愿服务队";
        NeighborhoodWatch => "neighborhood_watch", "邻里守望";
        PartyMember => "party_member", "在职党员进社区";
        Professional => "professional", "专业志愿服务队";
        Other => "other", "其他";
    }
}

vocabulary! {
    /// What kind of help is offered or asked for.
    ServiceCategory {
        HomeVisit => "home_visit", "上门探访";
        Companionship => "companionship", "陪伴";
        Housekeeping => "housekeeping", "家政服务";
        MealDelivery => "meal_delivery", "送餐";
        MedicalEscort => "medical_escort", "陪同就医";
        Shopping => "shopping", "代购";
        Repair => "repair", "维修";
        Tutoring => "tutoring", "课业辅导";
        PsychologicalSupport => "psychological_support", "心理疏导";
        LegalAid => "legal_aid", "法律援助";
        Other => "other", "其他";
    }
}

vocabulary! {
    /// Who a resident (服务对象) is.
    ResidentCategory {
        ElderlyAlone => "elderly_alone", "空巢老人";
        Disabled => "disabled", "残疾人";
        LeftBehindChild => "left_behind_child", "留守儿童";
        MigrantWorker => "migrant_worker", "农民工";
        Other => "other", "其他";
    }
}

impl ResidentCategory {
    /// Left-behind children and disabled residents are served by vetted teams only.
    pub fn needs_vetted_team(self) -> bool {
        matches!(self, Self::Disabled | Self::LeftBehindChild)
    }
}

vocabulary! {
    Urgency {
        Low => "low", "低";
        Normal => "normal", "一般";
        High => "high", "较急";
        Urgent => "urgent", "紧急";
    }
}

vocabulary! {
    /// Where a help request stands.
    RequestStatus {
        Open => "open", "待分派";
        Assigned => "assigned", "已分派";
        InProgress => "in_progress", "服务中";
        Completed => "completed", "已完成";
        Cancelled => "cancelled", "已取消";
    }
}

impl RequestStatus {
    /// Volunteers may check in while the request is assigned or under way.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Assigned | Self::InProgress)
    }
}

vocabulary! {
    /// A member's role within one team.
    MemberRole {
        Member => "member", "队员";
        Leader => "leader", "队长";
    }
}

vocabulary! {
    /// A membership: `pending` until a vetted team's leader or a manager
    /// approves; a pending member is not a member.
    MemberStatus {
        Active => "active", "在队";
        Pending => "pending", "待审核";
    }
}

vocabulary! {
    /// Where a sign-up stands: `signed_up` until the volunteer checks in
    /// (`attended`), withdraws (`withdrawn`, the place given back) or is
    /// still absent 30 minutes after the start (`no_show`).
    SignupStatus {
        SignedUp => "signed_up", "已报名";
        Withdrawn => "withdrawn", "已撤销";
        NoShow => "no_show", "未到场";
        Attended => "attended", "已签到";
    }
}

impl SignupStatus {
    /// Sign-ups that hold a place on the request (every one but a
    /// withdrawn one): the volunteer counts as signed up for it.
    pub const HOLDING: [Self; 3] = [Self::SignedUp, Self::Attended, Self::NoShow];
}

vocabulary! {
    RecordStatus {
        InProgress => "in_progress", "服务中";
        Pending => "pending", "待审核";
        Approved => "approved", "已通过";
        Rejected => "rejected", "已驳回";
    }
}

vocabulary! {
    /// A service certificate stands until a manager revokes it.
    CertificateStatus {
        Valid => "valid", "有效";
        Revoked => "revoked", "已撤销";
    }
}

vocabulary! {
    RecordSource {
        Phone => "phone", "手机签到";
        Paper => "paper", "纸质签到表";
    }
}

vocabulary! {
    /// Where a webhook delivers.
    WebhookKind {
        Wecom => "wecom", "企业微信群机器人";
        Dingtalk => "dingtalk", "钉钉自定义机器人";
        Feishu => "feishu", "飞书自定义机器人";
        Generic => "generic", "通用 Webhook";
    }
}

vocabulary! {
    /// Events that webhooks receive.
    EventType {
        RequestCreated => "request.created", "新的求助";
        RequestAssigned => "request.assigned", "求助已分派";
        SignupCreated => "signup.created", "志愿者报名";
        RequestFull => "request.full", "报名已满";
        ServiceRecordApproved => "service_record.approved", "服务时长已审核通过";
        ServiceRecordRejected => "service_record.rejected", "服务时长被驳回";
        RequestUpdated => "request.updated", "求助时间已变更";
        SignupReminder => "signup.reminder", "服务提醒";
        RequestUnfilled => "request.unfilled", "名额未满提醒";
        SignupNoShow => "signup.no_show", "志愿者未到场";
        SignupWithdrawn => "signup.withdrawn", "报名已撤销";
        ResidentConcern => "resident.concern", "回访发现需关注的情况";
        ReportMonthly => "report.monthly", "志愿服务月报";
        WebhookTest => "webhook.test", "测试消息";
    }
}

/// A list of vocabulary codes kept in one text column as a JSON array
/// (`["home_visit","shopping"]`): a team's service categories, a volunteer's
/// skills, the events a webhook receives. The stored text is exactly what it
/// was when these columns held `String`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeList<T>(pub Vec<T>);

impl<T> Default for CodeList<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> CodeList<T> {
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T> From<Vec<T>> for CodeList<T> {
    fn from(items: Vec<T>) -> Self {
        Self(items)
    }
}

impl<T: Serialize> CodeList<T> {
    fn to_json(&self) -> String {
        // A list of plain string codes always serialises.
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".to_owned())
    }
}

impl<T: serde::de::DeserializeOwned> CodeList<T> {
    fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json).map(Self)
    }
}

impl<T: Serialize> From<CodeList<T>> for sea_orm::Value {
    fn from(list: CodeList<T>) -> Self {
        sea_orm::Value::String(Some(list.to_json()))
    }
}

impl<T: serde::de::DeserializeOwned> sea_orm::TryGetable for CodeList<T> {
    fn try_get_by<I: sea_orm::ColIdx>(
        res: &sea_orm::QueryResult,
        idx: I,
    ) -> Result<Self, sea_orm::TryGetError> {
        let json = <String as sea_orm::TryGetable>::try_get_by(res, idx)?;
        Self::from_json(&json).map_err(|e| {
            sea_orm::TryGetError::DbErr(DbErr::Type(format!("stored code list {json}: {e}")))
        })
    }
}

impl<T: serde::de::DeserializeOwned> sea_orm::sea_query::ValueType for CodeList<T> {
    fn try_from(v: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
        let json = <String as sea_orm::sea_query::ValueType>::try_from(v)?;
        Self::from_json(&json).map_err(|_| sea_orm::sea_query::ValueTypeErr)
    }

    fn type_name() -> String {
        "CodeList".to_owned()
    }

    fn array_type() -> sea_orm::sea_query::ArrayType {
        sea_orm::sea_query::ArrayType::String
    }

    fn column_type() -> sea_orm::sea_query::ColumnType {
        sea_orm::sea_query::ColumnType::Text
    }
}

impl<T> sea_orm::sea_query::Nullable for CodeList<T> {
    fn null() -> sea_orm::Value {
        sea_orm::Value::String(None)
    }
}

impl<T> sea_orm::IntoActiveValue<CodeList<T>> for CodeList<T>
where
    CodeList<T>: Into<sea_orm::Value>,
{
    fn into_active_value(self) -> sea_orm::ActiveValue<CodeList<T>> {
        sea_orm::ActiveValue::Set(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_code_is_the_stored_code() {
        for category in ServiceCategory::ALL {
            let json = serde_json::to_string(category).unwrap();
            assert_eq!(json, format!("\"{}\"", category.code()));
            assert_eq!(category.to_value(), category.code());
            assert_eq!(
                ServiceCategory::try_from_value(&category.to_value()).ok(),
                Some(*category)
            );
        }
        assert_eq!(EventType::RequestCreated.to_value(), "request.created");
        assert!(RecordStatus::try_from_value(&"approved ".to_owned()).is_err());
        assert_eq!(TeamKind::LeiFeng.label(), "学雷锋志愿服务队");
        assert!(serde_json::from_str::<Urgency>("\"very_urgent\"").is_err());
    }

    #[test]
    fn code_lists_are_stored_as_the_json_arrays_they_always_were() {
        let list = CodeList(vec![ServiceCategory::HomeVisit, ServiceCategory::Shopping]);
        assert_eq!(list.to_json(), r#"["home_visit","shopping"]"#);
        let back = CodeList::<ServiceCategory>::from_json(r#"["home_visit","shopping"]"#).unwrap();
        assert_eq!(back, list);
        assert!(CodeList::<ServiceCategory>::from_json(r#"["flying"]"#).is_err());
    }

    #[test]
    fn vetting_rule_covers_children_and_disabled_residents_only() {
        assert!(ResidentCategory::LeftBehindChild.needs_vetted_team());
        assert!(ResidentCategory::Disabled.needs_vetted_team());
        assert!(!ResidentCategory::ElderlyAlone.needs_vetted_team());
        assert!(!ResidentCategory::Other.needs_vetted_team());
    }
}
