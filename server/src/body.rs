//! A response body handed to the connection in small frames that holds a resource (a
//! pull permit, a per-address slot) until it has been handed over in full or dropped.
//! hyper asks for the next frame only when its write buffer has room, so a peer that
//! reads slowly keeps the page here, under its permit, and the permits bound the
//! memory of pages however many peers pull.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Bytes per frame.
const FRAME: usize = 64 * 1024;

pub struct Guarded<G: Send + Unpin + 'static> {
    data: Bytes,
    guard: Option<G>,
}

impl<G: Send + Unpin + 'static> Guarded<G> {
    pub fn new(data: Vec<u8>, guard: G) -> Self {
        Guarded {
            data: Bytes::from(data),
            guard: Some(guard),
        }
    }
}

impl<G: Send + Unpin + 'static> Body for Guarded<G> {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.data.is_empty() {
            // Everything is with the connection: the guard can go.
            self.guard = None;
            return Poll::Ready(None);
        }
        let take = self.data.len().min(FRAME);
        let frame = self.data.split_to(take);
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}
