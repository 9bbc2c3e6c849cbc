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
    let total: usize = views
        .iter()
        .enumerate()
        .filter(|(i, _)| valid(*i))
        .map(|(_, v)| view_len(*v))
        .sum();
    if total > i32::MAX as usize {
        return None;
    }
    // Slack so that an inline value can always be written as a whole 12-byte move.
    let mut data: Vec<u8> = Vec::with_capacity(total + INLINE);
    let mut offsets: Vec<i32> = Vec::with_capacity(views.len() + 1);
    offsets.push(0);
    let mut end = 0usize;
    for (i, view) in views.iter().enumerate() {
        let len = if valid(i) { view_len(*view) } else { 0 };
        if len <= INLINE {
            let bytes = view.to_le_bytes();
            // Safety: `end + INLINE <= total + INLINE`, the capacity reserved above.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr().add(4),
                    data.as_mut_ptr().add(end),
                    INLINE,
                );
            }
        } else {
            let buffer = buffers.get((*view >> 64) as u32 as usize)?;
            let start = (*view >> 96) as u32 as usize;
            let value = buffer.as_slice().get(start..start + len)?;
            // Safety: `end + len <= total`, within the capacity reserved above.
            unsafe {
                std::ptr::copy_nonoverlapping(value.as_ptr(), data.as_mut_ptr().add(end), len);
            }
        }
        end += len;
        offsets.push(end as i32);
    }
    // Safety: bytes `..end` were all written above (inline moves may write past `end`, into
    // spare capacity that `set_len` leaves out).
    unsafe { data.set_len(end) };
    // Safety: offsets start at 0 and never decrease; the last one is `data.len()`.
    let offsets = unsafe { OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)) };
    Some((offsets, Buffer::from_vec(data)))
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
                3 => Some("thirteen bytes".into()),
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
