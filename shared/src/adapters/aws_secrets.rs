//! STUB — replaced by the secrets work. Secrets Manager.
use crate::ports::secrets::*;
use async_trait::async_trait;

pub struct AwsSecrets;

impl AwsSecrets {
    pub fn new(_c: aws_sdk_secretsmanager::Client, _secret_id: String) -> Self {
        Self
    }
}

#[async_trait]
impl Secrets for AwsSecrets {
    async fn get(&self, _n: SecretName) -> Result<SecretValue, SecretsError> {
        todo!()
    }
    async fn set(&self, _n: SecretName, _v: SecretValue) -> Result<(), SecretsError> {
        todo!()
    }
}
