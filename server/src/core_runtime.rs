//! The realtime core's own thread. The hub and the message writer run on a
//! single-threaded runtime that nothing else shares: no HTTP handler, no
//! preview fetch, no image decode and no parser of untrusted input can stall
//! acknowledgements and deliveries by hogging the thread they run on.

use std::thread::JoinHandle;

use anyhow::Context;
use tokio::sync::oneshot;

/// A runtime on a dedicated thread; tasks are spawned through [`CoreRuntime::handle`].
pub struct CoreRuntime {
    handle: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl CoreRuntime {
    pub fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("chat-core")
            .build()
            .context("starting the realtime core's runtime")?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("chat-core".into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                // Tasks still running (the hub) are dropped with the runtime.
                runtime.shutdown_background();
            })
            .context("starting the realtime core's thread")?;
        Ok(Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Stops the runtime (after its tasks have been told to finish) and
    /// waits for its thread.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for CoreRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
