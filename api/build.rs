//! Rebuilds the crate when a file of the web console (`console/`, embedded
//! by `include_dir`) is added, changed or removed.

fn main() {
    println!("cargo:rerun-if-changed=console");
}
