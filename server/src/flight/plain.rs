//! View arrays (Utf8View, BinaryView) rewritten as plain offset arrays for the wire.
//!
//! arrow's `cast` appends value by value through a builder and calls memcpy per value; for the
//! short strings typical of lake tables (flags, codes, names) that was a third of a cached
//! `SELECT *` DoGet's server CPU. This conversion sizes the output once, then copies each
//! inline value as one fixed 12-byte move and each long value with one memcpy.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryViewArray, StringArray, StringViewArray,
};
use datafusion::arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::DataType;

/// Values of at most this many bytes live inside their view.
const INLINE: usize = 12;

/// `array` as Utf8 / Binary, or `None` when it is not a view array this handles (the caller
/// then casts) or its values exceed the 2 GiB a plain array can address.
pub fn plain(array: &ArrayRef) -> Option<ArrayRef> {
    match array.data_type() {
        DataType::Utf8View => {
            let views: &StringViewArray = array.as_string_view();
            let (offsets, data) = concat(views.views(), views.data_buffers(), views.nulls())?;
            // Safety: every value is a whole UTF-8 string of a valid Utf8View array, so the
            // concatenation is valid UTF-8 and each offset falls on a value boundary.
            let plain =
                unsafe { StringArray::new_unchecked(offsets, data, views.nulls().cloned()) };
            Some(Arc::new(plain))
        }
        DataType::BinaryView => {
            let views: &BinaryViewArray = array.as_binary_view();
            let (offsets, data) = concat(views.views(), views.data_buffers(), views.nulls())?;
            Some(Arc::new(BinaryArray::new(
                offsets,
                data,
                views.nulls().cloned(),
            )))
        }
        _ => None,
    }
}

fn view_len(view: u128) -> usize {
    view as u32 as usize
}

/// The values behind `views`, back to back, with their offsets; null slots are empty.
fn concat(
    views: &ScalarBuffer<u128>,
    buffers: &[Buffer],
    nulls: Option<&NullBuffer>,
) -> Option<(OffsetBuffer<i32>, Buffer)> {
    let valid = |i: usize| nulls.is_none_or(|n| n.is_valid(i));
    let len_at = |i: usize, view: u128| if valid(i) { view_len(view) } else { 0 };
    let total: usize = views.iter().enumerate().map(|(i, v)| len_at(i, *v)).sum();
    if total > i32::MAX as usize {
        return None;
    }
    let mut data: Vec<u8> = Vec::with_capacity(total + SLACK);
    let mut offsets: Vec<i32> = Vec::with_capacity(views.len() + 1);
    offsets.push(0);
    let mut end = 0usize;
    for (i, view) in views.iter().enumerate() {
        let len = len_at(i, *view);
        // Safety: `end + len <= total` and every write below stays within `SLACK` bytes past
        // `end + len`, inside the capacity reserved above.
        unsafe {
            let dst = data.as_mut_ptr().add(end);
            if len <= INLINE {
                // The view's bytes 4..16 hold the value: one 16-byte store (4 spare bytes).
                std::ptr::write_unaligned(dst.cast::<u128>(), *view >> 32);
            } else {
                let buffer = buffers.get((*view >> 64) as u32 as usize)?;
                let start = (*view >> 96) as u32 as usize;
                let value = buffer.as_slice().get(start..start + len)?;
                copy_long(value, dst);
            }
        }
        end += len;
        offsets.push(end as i32);
    }
    // Safety: bytes `..end` were all written above (stores past `end` land in spare capacity
    // that `set_len` leaves out).
    unsafe { data.set_len(end) };
    // Safety: offsets start at 0 and never decrease; the last one is `data.len()`.
    let offsets = unsafe { OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)) };
    Some((offsets, Buffer::from_vec(data)))
}

/// Spare bytes after the values, for the whole-word stores of short values.
const SLACK: usize = 16;

/// Copies a value longer than [`INLINE`] bytes: up to 32 bytes as two overlapping 16-byte
/// moves (no call), longer ones with memcpy.
///
/// Safety: `dst` must have room for `value.len()` bytes.
unsafe fn copy_long(value: &[u8], dst: *mut u8) {
    let len = value.len();
    let src = value.as_ptr();
    unsafe {
        if len < 16 {
            let head = std::ptr::read_unaligned(src.cast::<u64>());
            let tail = std::ptr::read_unaligned(src.add(len - 8).cast::<u64>());
            std::ptr::write_unaligned(dst.cast::<u64>(), head);
            std::ptr::write_unaligned(dst.add(len - 8).cast::<u64>(), tail);
        } else if len <= 32 {
            let head = std::ptr::read_unaligned(src.cast::<u128>());
            let tail = std::ptr::read_unaligned(src.add(len - 16).cast::<u128>());
            std::ptr::write_unaligned(dst.cast::<u128>(), head);
            std::ptr::write_unaligned(dst.add(len - 16).cast::<u128>(), tail);
        } else {
            std::ptr::copy_nonoverlapping(src, dst, len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::compute::cast;

    fn strings() -> Vec<Option<String>> {
        (0..2000)
            .map(|i| match i % 7 {
                0 => None,
                1 => Some(String::new()),
                2 => Some("twelve bytes".into()),
                3 => Some("x".repeat(13 + i % 30)),
                4 => Some(format!("ü{i}")),
                _ => Some(format!("a longer value number {i} with some text")),
            })
            .collect()
    }

    #[test]
    fn strings_match_arrow_cast() {
        let array: ArrayRef = Arc::new(StringViewArray::from(strings()));
        for sliced in [array.clone(), array.slice(13, 1500)] {
            let ours = plain(&sliced).unwrap();
            let arrow = cast(&sliced, &DataType::Utf8).unwrap();
            assert_eq!(ours.as_ref(), arrow.as_ref());
        }
    }

    #[test]
    fn binaries_match_arrow_cast() {
        let values: Vec<Option<Vec<u8>>> = strings()
            .into_iter()
            .map(|s| s.map(String::into_bytes))
            .collect();
        let array: ArrayRef = Arc::new(BinaryViewArray::from_iter(values));
        let ours = plain(&array).unwrap();
        assert_eq!(
            ours.as_ref(),
            cast(&array, &DataType::Binary).unwrap().as_ref()
        );
    }

    #[test]
    fn null_slots_with_garbage_views_are_empty() {
        let valid = StringViewArray::from(vec!["a value longer than twelve", "x"]);
        // The same views, the first marked null: its view still points at real bytes.
        let nulls = NullBuffer::from(vec![false, true]);
        let array = StringViewArray::new(
            valid.views().clone(),
            valid.data_buffers().to_vec(),
            Some(nulls),
        );
        let out = plain(&(Arc::new(array) as ArrayRef)).unwrap();
        let out = out.as_string::<i32>();
        assert!(out.is_null(0));
        assert_eq!(out.value(1), "x");
        assert_eq!(out.value_offsets(), &[0, 0, 1]);
    }

    #[test]
    fn other_types_are_left_to_cast() {
        let array: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        assert!(plain(&array).is_none());
    }
}
