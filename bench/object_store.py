"""Keeping and reading a phone photo (about 300 KB once scaled, and its thumbnail) in the data
folder and in an S3-compatible store (moto's local server, so the network is the loopback and
the numbers are the client's and the protocol's cost, not a real store's), and what a web
server spends answering one photo request: sending the bytes, or signing an address.

Prints `name: value` lines (milliseconds, median of 30)."""

from __future__ import annotations

import io
import logging
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer
from PIL import Image

from models.object_store import ObjectStoreAddress, S3PhotoStore
from models.photos import LocalPhotoStore, PhotoStore, process_photo

REPEAT = 30


def _median_ms(run: Callable[[int], object]) -> float:
    times = []
    for number in range(REPEAT):
        start = time.perf_counter()
        run(number)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _photo() -> tuple[bytes, bytes]:
    image = Image.merge("RGB", [Image.effect_noise((400, 300), 60) for _ in range(3)])
    out = io.BytesIO()
    image.resize((4000, 3000)).save(out, "JPEG", quality=90)
    processed = process_photo(out.getvalue())
    return processed.jpeg, processed.thumbnail


def _measure(name: str, store: PhotoStore, jpeg: bytes, thumb: bytes) -> None:
    def put(number: int) -> None:
        store.put(f"photos/bench/{number}.jpg", jpeg)
        store.put(f"thumbs/bench/{number}.jpg", thumb)

    print(f"{name}_put_photo_and_thumb_ms: {_median_ms(put):.2f}")
    print(f"{name}_read_photo_ms: {_median_ms(lambda n: store.read(f'photos/bench/{n}.jpg')):.2f}")


def main() -> None:
    jpeg, thumb = _photo()
    print(f"photo_kb: {len(jpeg) / 1024:.0f}")
    with tempfile.TemporaryDirectory() as tmp:
        _measure("local", LocalPhotoStore(Path(tmp)), jpeg, thumb)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the server's line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        address = ObjectStoreAddress(
            bucket="houqin-bench",
            endpoint_url=f"http://127.0.0.1:{port}",
            region="us-east-1",
            access_key_id="bench",
            secret_access_key="bench",
            addressing_style="path",
        )
        boto3.client(
            "s3",
            endpoint_url=address.endpoint_url,
            region_name=address.region,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket=address.bucket)
        store = S3PhotoStore(address)
        _measure("s3", store, jpeg, thumb)

        def sign(number: int) -> None:
            store.signed_url(
                f"photos/bench/{number}.jpg",
                seconds=300,
                content_type="image/jpeg",
                disposition="inline",
            )

        print(f"s3_sign_url_ms: {_median_ms(sign):.3f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
