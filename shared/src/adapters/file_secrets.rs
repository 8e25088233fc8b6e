//! STUB — replaced by the secrets work. Secrets as files under the data dir.
use crate::ports::secrets::*;
use async_trait::async_trait;
use std::path::PathBuf;

pub struct FileSecrets;

impl FileSecrets {
    pub fn open(_dir: PathBuf) -> Result<Self, SecretsError> {
        Err(SecretsError::Fatal("not implemented".into()))
    }
}

#[async_trait]
impl Secrets for FileSecrets {
    async fn get(&self, _n: SecretName) -> Result<SecretValue, SecretsError> {
        todo!()
    }
    async fn set(&self, _n: SecretName, _v: SecretValue) -> Result<(), SecretsError> {
        todo!()
    }
}
