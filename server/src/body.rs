//! A response body that holds a resource (a semaphore permit) until it has been handed
//! to the connection in full or dropped, so the resource bounds bodies in flight and
//! not just the handlers that made them.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::OwnedSemaphorePermit;

pub struct Guarded {
    data: Option<Bytes>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Guarded {
    pub fn new(data: Vec<u8>, permit: OwnedSemaphorePermit) -> Self {
        Guarded {
            data: Some(Bytes::from(data)),
            permit: Some(permit),
        }
    }
}

impl Body for Guarded {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.data.take() {
            Some(data) => Poll::Ready(Some(Ok(Frame::data(data)))),
            None => {
                // Everything is with the connection: the permit can go.
                self.permit = None;
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}
