"""Running a fake service on a free localhost port, over HTTP or HTTPS.

    async with running(app) as base_url:          # "http://127.0.0.1:PORT"
        ...
    tls = TestCertificate.create()
    async with running(app, tls=tls) as base_url:  # "https://localhost:PORT"
        ...  # clients trust tls.ca_path
    with ThreadedServer(app) as base_url:         # its own thread, for sync clients
        ...

msal only accepts an https authority, hence the self-signed certificate,
made with ``cryptography`` for each test session.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TestCertificate:
    """A self-signed certificate for localhost and 127.0.0.1, written to a temporary folder."""

    __test__ = False  # not a pytest test class

    cert_path: Path
    key_path: Path

    @property
    def ca_path(self) -> Path:
        """What clients should trust (self-signed: the certificate itself)."""
        return self.cert_path

    @classmethod
    def create(cls, folder: Path | None = None) -> TestCertificate:
        folder = folder or Path(tempfile.mkdtemp(prefix="pairtime-tls-"))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        cert_path = folder / "cert.pem"
        key_path = folder / "key.pem"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        return cls(cert_path, key_path)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))


@asynccontextmanager
async def running(
    app: web.Application, *, tls: TestCertificate | None = None
) -> AsyncIterator[str]:
    """Serve ``app`` on a free port for the duration of the block; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host = "localhost" if tls else "127.0.0.1"
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls.server_context() if tls else None)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"{'https' if tls else 'http'}://{host}:{port}"
    finally:
        await runner.cleanup()


class ThreadedServer:
    """A fake served from its own thread and event loop.

    Needed whenever a synchronous client (msal, requests inside
    google-auth-oauthlib) calls the fake from the test's own event loop, which
    would otherwise block the very loop that serves the answer.
    """

    def __init__(self, app: web.Application, *, tls: TestCertificate | None = None) -> None:
        self._app = app
        self._tls = tls
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fake-server", daemon=True)
        self.base_url = ""

    def __enter__(self) -> str:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the fake server did not start")
        return self.base_url

    def __exit__(self, *_exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with running(self._app, tls=self._tls) as base_url:
            self.base_url = base_url
            self._ready.set()
            await self._stop.wait()
