//! The market model: mints with a price per venue on a seeded random walk, venue spreads and
//! depth, and dislocations that open profitable round trips.
