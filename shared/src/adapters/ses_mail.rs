//! STUB — replaced by the mail work. SES v2 mailer.
use crate::ports::mail::*;
use async_trait::async_trait;

pub struct SesMailer;

impl SesMailer {
    pub fn new(_c: aws_sdk_sesv2::Client, _from: String) -> Self {
        Self
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, _e: &Email) -> Result<String, MailError> {
        todo!()
    }
}
