//! Coalesced socket writes for the Flight listener.
//!
//! h2 writes each HTTP/2 DATA frame with its own `writev` and flushes after it; gRPC clients
//! (grpc-core, hence pyarrow and the ADBC C++ driver) limit frames to 16 KiB, so a 1 GB result
//! took 62,000 system calls, about half the server's CPU on a DoGet. [`Coalescing`] gathers the
//! frames in a buffer and writes it in large pieces.
//!
//! Flushing stays correct without timers: a flush while the buffer is small and frames are still
//! arriving is deferred once, and the connection task is woken, so that it flushes again as
//! soon as it has nothing more to write; a flush with no write since the previous one (the
//! connection is idle) always reaches the socket. That relies on the writer flushing whenever
//! it is polled with nothing to send, as h2's connection does; a TLS layer in between does not
//! (its handshake flushes once and waits to read), so under TLS flushes are never deferred.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::transport::server::Connected;

/// Bytes gathered before a write reaches the socket.
const CAPACITY: usize = 256 * 1024;
/// A flush with at least this much buffered writes it out at once.
const FLUSH_AT: usize = 128 * 1024;

/// An I/O stream whose small writes are gathered into large ones.
pub struct Coalescing<T> {
    inner: T,
    buf: Vec<u8>,
    /// Bytes of `buf` already written to `inner`.
    written: usize,
    /// Whether anything was buffered since the last flush.
    wrote_since_flush: bool,
    /// Whether a flush may be deferred (the writer is h2 itself, see the module docs).
    defer_flushes: bool,
}

impl<T> Coalescing<T> {
    /// `defer_flushes` only when h2 writes to this stream directly (no TLS in between).
    pub fn new(inner: T, defer_flushes: bool) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(CAPACITY),
            written: 0,
            wrote_since_flush: false,
            defer_flushes,
        }
    }
}

impl<T: AsyncWrite + Unpin> Coalescing<T> {
    /// Writes the whole buffer to the inner stream.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.buf.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// Makes room for `len` more bytes, writing the buffer out if they would not fit.
    fn poll_room(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<io::Result<()>> {
        if self.buf.len() + len > CAPACITY {
            ready!(self.poll_drain(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coalescing<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_room(cx, data.len()))?;
        if self.buf.is_empty() && data.len() >= CAPACITY {
            return Pin::new(&mut self.inner).poll_write(cx, data);
        }
        self.buf.extend_from_slice(data);
        self.wrote_since_flush = true;
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        ready!(self.poll_room(cx, total))?;
        if self.buf.is_empty() && total >= CAPACITY {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        }
        for b in bufs {
            self.buf.extend_from_slice(b);
        }
        self.wrote_since_flush = true;
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.defer_flushes && self.wrote_since_flush && self.buf.len() < FLUSH_AT {
            // More frames are likely on their way: wait for them, but make sure the
            // connection comes back to flush if none do.
            self.wrote_since_flush = false;
            cx.waker().wake_by_ref();
            return Poll::Ready(Ok(()));
        }
        ready!(self.poll_drain(cx))?;
        self.wrote_since_flush = false;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Coalescing<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: Connected> Connected for Coalescing<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// Records every write it gets.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<usize>,
        data: Vec<u8>,
        flushes: usize,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.writes.push(data.len());
            self.data.extend_from_slice(data);
            Poll::Ready(Ok(data.len()))
        }
        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn ready<T>(p: Poll<io::Result<T>>) -> T {
        match p {
            Poll::Ready(Ok(v)) => v,
            other => panic!("not ready: {:?}", other.map(|r| r.map(|_| ()))),
        }
    }

    /// The way h2 writes: a frame header and payload, then a flush, frame after frame; then,
    /// when idle, one more flush.
    #[test]
    fn frames_flushed_one_by_one_leave_in_large_writes() {
        let counter = Arc::new(CountingWaker::default());
        let waker = std::task::Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let mut io = Coalescing::new(Recorder::default(), true);
        let payload = vec![7u8; 16 * 1024];
        let mut expected = vec![];
        for i in 0..100u8 {
            let header = [i; 9];
            let slices = [io::IoSlice::new(&header), io::IoSlice::new(&payload)];
            let n = ready(Pin::new(&mut io).poll_write_vectored(&mut cx, &slices));
            assert_eq!(n, 9 + payload.len());
            expected.extend_from_slice(&header);
            expected.extend_from_slice(&payload);
            ready(Pin::new(&mut io).poll_flush(&mut cx));
        }
        // The connection was asked to come back; when it does and has nothing new, the
        // flush reaches the socket.
        assert!(counter.0.load(Ordering::SeqCst) > 0);
        ready(Pin::new(&mut io).poll_flush(&mut cx));
        let recorder = &io.inner;
        assert_eq!(recorder.data, expected);
        assert!(
            recorder.writes.len() <= 14,
            "{} writes",
            recorder.writes.len()
        );
        assert!(recorder.flushes >= 1);
    }

    #[test]
    fn an_idle_flush_always_writes() {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut io = Coalescing::new(Recorder::default(), true);
        ready(Pin::new(&mut io).poll_write(&mut cx, b"ping"));
        ready(Pin::new(&mut io).poll_flush(&mut cx)); // deferred once
        ready(Pin::new(&mut io).poll_flush(&mut cx));
        assert_eq!(io.inner.data, b"ping");
        // Big writes pass straight through.
        let big = vec![1u8; CAPACITY];
        ready(Pin::new(&mut io).poll_write(&mut cx, &big));
        assert_eq!(io.inner.writes.last(), Some(&CAPACITY));
        ready(Pin::new(&mut io).poll_shutdown(&mut cx));
    }

    #[test]
    fn without_deferral_every_flush_writes() {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut io = Coalescing::new(Recorder::default(), false);
        ready(Pin::new(&mut io).poll_write(&mut cx, b"hello"));
        ready(Pin::new(&mut io).poll_flush(&mut cx));
        assert_eq!(io.inner.data, b"hello");
    }
}
