//! Progress bars for uploads and downloads: on standard error when it is a
//! terminal, nothing otherwise (a pipe or a CI log gets no bar codes).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use skiff_client::Client;
use std::io::IsTerminal;

/// A client whose transfers draw a bar labelled `what`, and the bar to finish;
/// the client as it is when standard error is no terminal.
pub fn watched(client: &Client, what: &str) -> (Client, Option<ProgressBar>) {
    if !std::io::stderr().is_terminal() {
        return (client.clone(), None);
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        // As wide as the terminal: a fixed width wraps on a narrow one.
        ProgressStyle::with_template(
            "{msg} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    let shown = bar.clone();
    let client = client.with_progress(move |done, total| {
        if let Some(t) = total {
            shown.set_length(t);
        }
        shown.set_position(done);
    });
    (client, Some(bar))
}

/// Clear the bar once the transfer is over (its answer is printed after).
pub fn finish(bar: Option<ProgressBar>) {
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}
