//! Coordinates, great-circle distances, and the fixed grid of cells about
//! a kilometre across that stands in for a resident's place when the
//! reader may not see the address.

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

/// Height of a grid row: 0.009° of latitude, 1.0 km everywhere.
const ROW_DEGREES: f64 = 0.009;
/// Rows from the South Pole to the North Pole.
const ROWS: f64 = 180.0 / ROW_DEGREES;
/// Aimed width of a cell, in degrees of longitude at the equator.
const CELL_DEGREES_AT_EQUATOR: f64 = 0.009;

/// The cell of a fixed grid that holds a point, by its row (from the South
/// Pole) and column (from 180° W). Rows are 0.009° of latitude (1.0 km);
/// each row is cut into as many equal columns as make them about 1 km wide
/// at the row's middle latitude, so the columns of a row close around the
/// globe with no odd cell at 180°. The cell depends on the point only —
/// never on who asks or when — so readings from anywhere at any time all
/// see the same cell centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cell {
    pub row: u32,
    pub col: u32,
}

impl Cell {
    pub fn of(point: Coordinates) -> Self {
        let row = ((point.lat + 90.0) / ROW_DEGREES)
            .floor()
            .clamp(0.0, ROWS - 1.0);
        let width = column_degrees(row);
        let columns = (360.0 / width).round();
        let col = ((point.lng + 180.0) / width)
            .floor()
            .clamp(0.0, columns - 1.0);
        // Both are whole numbers within 0..ROWS and 0..40_000 by now.
        Self {
            row: row as u32,
            col: col as u32,
        }
    }

    pub fn centre(self) -> Coordinates {
        let row = f64::from(self.row);
        let width = column_degrees(row);
        Coordinates {
            lat: -90.0 + (row + 0.5) * ROW_DEGREES,
            lng: -180.0 + (f64::from(self.col) + 0.5) * width,
        }
    }
}

/// Width in degrees of longitude of the cells of `row`: a whole number of
/// them fills 360°, each about 1 km wide at the row's middle latitude.
fn column_degrees(row: f64) -> f64 {
    let middle = (-90.0 + (row + 0.5) * ROW_DEGREES).to_radians();
    let columns = (360.0 * middle.cos() / CELL_DEGREES_AT_EQUATOR)
        .round()
        .max(1.0);
    360.0 / columns
}

/// The centre of the grid cell that holds `point`.
pub fn cell_centre(point: Coordinates) -> Coordinates {
    Cell::of(point).centre()
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
    fn cell_size_km(lat: f64, lng: f64) -> (f64, f64) {
        let cell = Cell::of(Coordinates { lat, lng });
        let c = cell.centre();
        let north = Cell {
            row: cell.row + 1,
            ..cell
        }
        .centre();
        let east = Cell {
            col: cell.col + 1,
            ..cell
        }
        .centre();
        (
            haversine_km(
                c,
                Coordinates {
                    lat: north.lat,
                    lng: c.lng,
                },
            ),
            haversine_km(
                c,
                Coordinates {
                    lat: c.lat,
                    lng: east.lng,
                },
            ),
        )
    }

    #[test]
    fn cells_are_about_a_kilometre_across_at_every_latitude_we_serve() {
        for lat in [0.0, 30.0, 45.0, -30.0, 53.5] {
            let (high, wide) = cell_size_km(lat, 116.4);
            assert!((0.95..=1.05).contains(&high), "{lat}: {high}");
            assert!((0.95..=1.05).contains(&wide), "{lat}: {wide}");
        }
    }

    #[test]
    fn two_points_in_one_cell_share_its_centre() {
        let a = Coordinates::new(39.9042, 116.4074).unwrap();
        let centre = cell_centre(a);
        assert_eq!(cell_centre(centre), centre, "the centre lies in its cell");
        let b = Coordinates::new(
            a.lat + (centre.lat - a.lat) * 0.5,
            a.lng + (centre.lng - a.lng) * 0.5,
        )
        .unwrap();
        assert_eq!(cell_centre(b), centre);
        assert!(haversine_km(a, centre) < 0.75, "within half a diagonal");
        let far = Coordinates::new(a.lat + 0.02, a.lng).unwrap();
        assert_ne!(cell_centre(far), centre);
    }

    #[test]
    fn the_cell_depends_on_the_point_only() {
        let p = Coordinates::new(31.2304, 121.4737).unwrap();
        assert_eq!(Cell::of(p), Cell::of(p));
        // The edges of the world are cells too.
        for (lat, lng) in [(90.0, 180.0), (-90.0, -180.0), (0.0, 180.0), (89.999, 0.0)] {
            let c = cell_centre(Coordinates::new(lat, lng).unwrap());
            assert!(Coordinates::new(c.lat, c.lng).is_ok(), "{lat},{lng}: {c:?}");
        }
    }
}
