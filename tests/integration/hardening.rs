//! The holes found in the security review (issue 13): each attack is refused, bounded, and the
//! server and its data survive it.

mod activity;
mod connections;
mod flight;
mod limits;
mod memory;
mod settings;
