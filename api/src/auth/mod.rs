//! Who is calling: passwords, access tokens, and the extractors that
//! answer 401 (no or bad token) and 403 (wrong role).

mod extractor;
mod password;
pub mod standing;
mod token;

pub use extractor::{
    Admin, AuthUser, Manager, MaybeAuthUser, Staff, Volunteer, accepted_caller,
    bearer_token as bearer_token_of,
};
pub use password::{HashGate, hash_password, verify_password};
pub use token::{Claims, TokenKeys, Verified};
