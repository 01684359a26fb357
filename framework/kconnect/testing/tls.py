"""A throwaway certificate authority and the key and trust stores Kafka users have, for tests.

:func:`generate_tls` makes, in a directory of the caller's: a CA, a broker certificate for
127.0.0.1/localhost and a client certificate, both signed by the CA, and the stores in each
format a Java client config can name: PKCS12 and JKS keystores and truststores written by the
JDK's ``keytool`` (as users make them), and PEM files and strings. Nothing here is secret:
every store uses the one password of :class:`TlsFiles`.

    tls = generate_tls(tmp_path)
    with KafkaCluster(ssl_listener=tls.broker_ssl_config()) as cluster:
        props = {"bootstrap.servers": cluster.ssl_bootstrap_servers,
                 **tls.client_props(keystore="PKCS12", truststore="JKS")}
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kconnect.testing.kafka_jars import KafkaSetupError, java_executable

_KEY_SIZE = 2048
_VALID_DAYS = 2


@dataclass(frozen=True)
class TlsFiles:
    """The files and PEM strings made by :func:`generate_tls`."""

    directory: Path
    password: str
    ca_pem: Path
    broker_keystore: Path  # PKCS12
    client_pkcs12: Path
    client_jks: Path
    client_pem: Path  # encrypted PKCS#8 key, then the certificate chain
    client_key_pem: str = field(repr=False)  # encrypted PKCS#8, for ssl.keystore.key
    client_chain_pem: str = field(repr=False)  # for ssl.keystore.certificate.chain
    truststore_pkcs12: Path
    truststore_jks: Path

    def broker_ssl_config(self, client_auth: str = "required") -> dict[str, str]:
        """A broker SSL listener's ``ssl.*`` keys (see ``KafkaCluster(ssl_listener=…)``)."""
        return {
            "ssl.keystore.location": str(self.broker_keystore),
            "ssl.keystore.password": self.password,
            "ssl.key.password": self.password,
            "ssl.keystore.type": "PKCS12",
            "ssl.truststore.location": str(self.truststore_pkcs12),
            "ssl.truststore.password": self.password,
            "ssl.truststore.type": "PKCS12",
            "ssl.client.auth": client_auth,
        }

    def client_props(self, keystore: str = "PKCS12", truststore: str = "JKS") -> dict[str, str]:
        """Java client keys for ``security.protocol=SSL`` with the client's keystore and the
        truststore of the given types (JKS, PKCS12, PEM; PEM-STRINGS for the inline keys)."""
        props = {"security.protocol": "SSL"}
        if keystore == "PEM-STRINGS":
            props.update(
                {
                    "ssl.keystore.type": "PEM",
                    "ssl.keystore.key": self.client_key_pem,
                    "ssl.keystore.certificate.chain": self.client_chain_pem,
                    "ssl.key.password": self.password,
                }
            )
        else:
            location = {
                "PKCS12": self.client_pkcs12,
                "JKS": self.client_jks,
                "PEM": self.client_pem,
            }[keystore]
            props.update(
                {
                    "ssl.keystore.type": keystore,
                    "ssl.keystore.location": str(location),
                    "ssl.key.password": self.password,
                }
            )
            if keystore != "PEM":
                props["ssl.keystore.password"] = self.password
        if truststore == "PEM-STRINGS":
            props["ssl.truststore.type"] = "PEM"
            props["ssl.truststore.certificates"] = self.ca_pem.read_text()
        else:
            location = {
                "PKCS12": self.truststore_pkcs12,
                "JKS": self.truststore_jks,
                "PEM": self.ca_pem,
            }[truststore]
            props["ssl.truststore.type"] = truststore
            props["ssl.truststore.location"] = str(location)
            if truststore != "PEM":
                props["ssl.truststore.password"] = self.password
        return props


def keytool_executable() -> str:
    """The JDK's ``keytool``, next to the ``java`` Kafka runs with."""
    candidate = Path(java_executable()).resolve().parent / "keytool"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("keytool")
    if found is None:
        raise KafkaSetupError("keytool was not found: the JKS test stores need a JDK")
    return found


def generate_tls(directory: Path, password: str = "test-secret-1") -> TlsFiles:
    """Make the CA, certificates and stores in ``directory`` (created if missing)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _certificate("kconnect test CA", None, None, ca=True)
    broker_key, broker_cert = _certificate("127.0.0.1", ca_key, ca_cert)
    client_key, client_cert = _certificate("kconnect-test-client", ca_key, ca_cert)

    pem = serialization.Encoding.PEM
    ca_pem = directory / "ca.pem"
    ca_pem.write_bytes(ca_cert.public_bytes(pem))
    secret = password.encode()

    def p12(name: str, key: object, cert: object) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            name.encode(),
            key,  # type: ignore[arg-type]
            cert,  # type: ignore[arg-type]
            [ca_cert],
            serialization.BestAvailableEncryption(secret),
        )

    broker_keystore = directory / "broker.p12"
    broker_keystore.write_bytes(p12("broker", broker_key, broker_cert))
    raw_client = directory / "client-raw.p12"
    raw_client.write_bytes(p12("client", client_key, client_cert))

    keytool = keytool_executable()
    client_pkcs12 = directory / "client.p12"
    client_jks = directory / "client.jks"
    for target, store_type in ((client_pkcs12, "PKCS12"), (client_jks, "JKS")):
        _keytool(
            keytool,
            "-importkeystore",
            "-srckeystore",
            str(raw_client),
            "-srcstoretype",
            "PKCS12",
            "-srcstorepass",
            password,
            "-destkeystore",
            str(target),
            "-deststoretype",
            store_type,
            "-deststorepass",
            password,
            "-destkeypass",
            password,
        )
    raw_client.unlink()
    truststore_pkcs12 = directory / "truststore.p12"
    truststore_jks = directory / "truststore.jks"
    for target, store_type in ((truststore_pkcs12, "PKCS12"), (truststore_jks, "JKS")):
        _keytool(
            keytool,
            "-importcert",
            "-alias",
            "ca",
            "-file",
            str(ca_pem),
            "-keystore",
            str(target),
            "-storetype",
            store_type,
            "-storepass",
            password,
        )

    key_pem = client_key.private_bytes(
        pem,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    ).decode("ascii")
    chain_pem = (client_cert.public_bytes(pem) + ca_cert.public_bytes(pem)).decode("ascii")
    client_pem = directory / "client.pem"
    client_pem.write_text(key_pem + chain_pem)
    return TlsFiles(
        directory=directory,
        password=password,
        ca_pem=ca_pem,
        broker_keystore=broker_keystore,
        client_pkcs12=client_pkcs12,
        client_jks=client_jks,
        client_pem=client_pem,
        client_key_pem=key_pem,
        client_chain_pem=chain_pem,
        truststore_pkcs12=truststore_pkcs12,
        truststore_jks=truststore_jks,
    )


def _keytool(keytool: str, *args: str) -> None:
    # keytool adds to an existing store (and refuses a second "ca"): always start afresh.
    Path(args[args.index("-destkeystore" if "-destkeystore" in args else "-keystore") + 1]).unlink(
        missing_ok=True
    )
    result = subprocess.run(
        [keytool, *args, "-noprompt"], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise KafkaSetupError(f"keytool {args[0]} failed: {result.stdout}{result.stderr}")


def _certificate(common_name: str, issuer_key: object, issuer_cert: object, ca: bool = False):  # type: ignore[no-untyped-def]
    """(key, certificate) for ``common_name``: self-signed if ``issuer_key`` is None; a leaf
    certificate is valid for 127.0.0.1 and localhost, as server and as client."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer = subject if issuer_cert is None else issuer_cert.subject  # type: ignore[attr-defined]
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    signing_key = key if issuer_key is None else issuer_key
    return key, builder.sign(signing_key, hashes.SHA256())  # type: ignore[arg-type]
