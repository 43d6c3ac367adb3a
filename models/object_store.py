"""Photos and documents in an S3-compatible object store (MinIO, Alibaba Cloud OSS, Tencent
COS, AWS S3), so several web servers share them; the one file that speaks boto3.

A PUT is atomic: an object is whole or absent, never half, so an interrupted upload leaves
nothing; a PUT that lands before its row's transaction rolls back leaves a whole object no row
names, an orphan `houqin check --remove-orphans` clears once it is older than an hour, as
in the data folder. Putting a key again writes it again, which renews its LastModified as
touching a local file does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from models.photos import StoredKey

MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


@dataclass(frozen=True)
class ObjectStoreAddress:
    """Where the store is and how to sign in; empty keys leave boto3 to find them (the
    AWS_* environment, an instance role)."""

    bucket: str
    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""
    prefix: str = ""
    # "path" (endpoint/bucket/key, what MinIO wants), "virtual" (bucket.endpoint/key, what
    # OSS and COS want), or "auto".
    addressing_style: str = "auto"


class S3PhotoStore:
    def __init__(self, address: ObjectStoreAddress) -> None:
        self.bucket = address.bucket
        self.prefix = address.prefix.strip("/") + "/" if address.prefix.strip("/") else ""
        self.client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=address.endpoint_url or None,
            region_name=address.region or None,
            aws_access_key_id=address.access_key_id or None,
            aws_secret_access_key=address.secret_access_key or None,
            config=Config(
                s3={"addressing_style": address.addressing_style},
                signature_version="s3v4",
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )

    def _name(self, key: str) -> str:
        return self.prefix + key

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def read(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(key) from None
            raise
        data: bytes = answer["Body"].read()
        return data

    def exists(self, key: str) -> bool:
        return self.modified(key) is not None

    def listed(self, folder: str) -> Iterator[StoredKey]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._name(folder.strip("/") + "/")
        )
        for page in pages:
            for entry in page.get("Contents", []):
                key = entry["Key"].removeprefix(self.prefix)
                yield StoredKey(key, entry["LastModified"].timestamp(), int(entry["Size"]))

    def modified(self, key: str) -> float | None:
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if _missing(error):
                return None
            raise
        return float(answer["LastModified"].timestamp())

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def signed_url(self, key: str, *, seconds: int, content_type: str, disposition: str) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._name(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
                # Named by their content, the files never change: the browser keeps them,
                # for the reader alone.
                "ResponseCacheControl": "private, max-age=2592000",
            },
            ExpiresIn=seconds,
        )
        return url


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING_CODES
