//! The closed vocabularies of the contract. They live in `entity`, next to
//! the columns that store them; domain rules read them from here.

pub use entity::vocab::*;
