//! TLS for PostgreSQL with libpq's `sslmode` meanings, on rustls.
//!
//! rust-postgres verifies certificates whenever TLS is on and knows only
//! disable/prefer/require, so each libpq mode is mapped explicitly here:
//! - `prefer`/`require`: encrypted, certificate not checked (libpq's meaning), unless a
//!   root certificate is given, which makes `require` behave as `verify-ca` (as libpq);
//! - `verify-ca`: the chain must lead to the given roots, any host name;
//! - `verify-full`: the chain and the host name.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::target::SslMode;
use crate::exit::{bad_input, bad_input_from};

/// How the server's certificate will be checked, in words for `-v` and doctor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

pub struct TlsPlan {
    pub config: ClientConfig,
    pub description: String,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration for an `sslmode` other than `disable`.
pub fn client_config(mode: SslMode, root_cert: Option<&Path>) -> anyhow::Result<TlsPlan> {
    let check = match (mode, root_cert) {
        (SslMode::Disable, _) => unreachable!("no TLS config for sslmode=disable"),
        (SslMode::Prefer, _) | (SslMode::Require, None) => Check::Nothing,
        (SslMode::Require, Some(_)) | (SslMode::VerifyCa, _) => Check::Chain,
        (SslMode::VerifyFull, _) => Check::ChainAndName,
    };
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?;
    let (verifier, description): (Arc<dyn ServerCertVerifier>, String) = match check {
        Check::Nothing => (
            Arc::new(LibpqVerifier { algorithms: provider.signature_verification_algorithms, chain: None }),
            format!("sslmode={}: encrypted when the server offers TLS, certificate not verified", mode.as_str()),
        ),
        Check::Chain | Check::ChainAndName => {
            let (roots, from) = load_roots(root_cert)?;
            let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .context("building the certificate verifier")?;
            if check == Check::Chain {
                (
                    Arc::new(LibpqVerifier {
                        algorithms: provider.signature_verification_algorithms,
                        chain: Some(inner),
                    }),
                    format!(
                        "sslmode={}: TLS required, certificate chain verified against {from}, host name not checked",
                        mode.as_str()
                    ),
                )
            } else {
                (inner, format!("sslmode=verify-full: TLS required, certificate chain verified against {from} and host name checked"))
            }
        }
    };
    let config = builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
    Ok(TlsPlan { config, description })
}

fn load_roots(root_cert: Option<&Path>) -> anyhow::Result<(RootCertStore, String)> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        // As libpq: verify-ca and verify-full need a root certificate; the system's roots
        // only when asked for with sslrootcert=system.
        None => Err(bad_input(
            "sslmode=verify-ca/verify-full needs a root certificate: give sslrootcert=/path/to/ca.pem, put it in \
             ~/.postgresql/root.crt, or use sslrootcert=system for the system's root certificates",
        )),
        Some(path) if path == Path::new("system") => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(bad_input("sslrootcert=system: no system root certificates found"));
            }
            Ok((roots, "the system's root certificates".into()))
        }
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad_input_from(format!("cannot read sslrootcert {}", path.display()), e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad_input(format!("sslrootcert {} is not a PEM certificate file: {e}", path.display())))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(bad_input(format!("sslrootcert {} holds no usable certificate", path.display())));
            }
            Ok((roots, path.display().to_string()))
        }
    }
}

/// The two libpq modes rustls has no verifier for. `chain: None` is `sslmode=require` or
/// `prefer` without a root file: encryption, no authentication. `chain: Some` is
/// `verify-ca`: the full chain check, with only a wrong host name forgiven (webpki checks
/// the name after the chain, so a name error means the chain was good). Handshake
/// signatures are always checked, so the session key is bound to the certificate.
#[derive(Debug)]
struct LibpqVerifier {
    /// The provider's handshake-signature algorithms (a table of static references).
    algorithms: WebPkiSupportedAlgorithms,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

/// What a handshake-signature check answers.
type Signature = Result<HandshakeSignatureValid, rustls::Error>;

impl ServerCertVerifier for LibpqVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(&self, msg: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Signature {
        verify_tls12_signature(msg, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(&self, msg: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Signature {
        verify_tls13_signature(msg, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
