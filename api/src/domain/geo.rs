//! Coordinates and great-circle distances.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// WGS-84 latitude and longitude in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Coordinates {
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub lat: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub lng: f64,
}

impl Coordinates {
    /// Refuses NaN and out-of-range values; returns the offending field.
    pub fn new(lat: f64, lng: f64) -> Result<Self, (&'static str, &'static str)> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(("lat", "纬度须在 -90 到 90 之间"));
        }
        if !lng.is_finite() || !(-180.0..=180.0).contains(&lng) {
            return Err(("lng", "经度须在 -180 到 180 之间"));
        }
        Ok(Self { lat, lng })
    }

    pub fn distance_km(self, other: Coordinates) -> f64 {
        haversine_km(self, other)
    }
}

const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance by the haversine formula.
pub fn haversine_km(a: Coordinates, b: Coordinates) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let d_lat = lat2 - lat1;
    let d_lng = (b.lng - a.lng).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_to_shanghai_is_about_1068_km() {
        let beijing = Coordinates::new(39.9042, 116.4074).unwrap();
        let shanghai = Coordinates::new(31.2304, 121.4737).unwrap();
        let d = haversine_km(beijing, shanghai);
        assert!((d - 1067.0).abs() < 5.0, "{d}");
        assert_eq!(haversine_km(beijing, beijing), 0.0);
    }

    #[test]
    fn refuses_out_of_range_and_nan() {
        assert_eq!(Coordinates::new(91.0, 0.0).unwrap_err().0, "lat");
        assert_eq!(Coordinates::new(0.0, -180.5).unwrap_err().0, "lng");
        assert!(Coordinates::new(f64::NAN, 0.0).is_err());
        assert!(Coordinates::new(-90.0, 180.0).is_ok());
    }
}
