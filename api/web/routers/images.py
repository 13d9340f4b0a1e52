"""Book images: `PUT /books/{id}/image` (admin) and `GET /images/{name}` (anyone).

An image is uploaded as the raw request body, kept under
`<data dir>/images/<book id>-<sha256 prefix>.<ext>` (a name that changes with the bytes, so an
image is served as immutable), and named in the book's details (its `image`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import FileResponse

from api.web.commands import CommandAnswer, Commands
from api.web.deps import AdminCaller, Anyone, PlatformDep, rate_limited
from api.web.problems import FieldProblem, ProblemError, declared
from write_side.catalog.book import Book
from write_side.catalog.commands import UpdateBookDetails
from write_side.domain import Command, Repository, StaleVersion

router = APIRouter(tags=["books"], dependencies=[rate_limited("catalog")])

#: The largest image accepted: 1 MiB.
MAX_IMAGE_BYTES = 1024 * 1024
#: How many hex digits of the image's SHA-256 its file name keeps.
HASH_PREFIX = 16
#: How often an upload is sent again when the book changed between reading its details and
#: the command (without `If-Match`; with it, the change is a 412).
IMAGE_RETRIES = 5


@dataclass(frozen=True, slots=True)
class ImageType:
    """A media type accepted for images: its file extension and how its bytes begin."""

    extension: str
    matches: Callable[[bytes], bool]


IMAGE_TYPES = {
    "image/jpeg": ImageType("jpg", lambda data: data.startswith(b"\xff\xd8\xff")),
    "image/png": ImageType("png", lambda data: data.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/webp": ImageType("webp", lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP"),
}
_MEDIA_TYPES = {kind.extension: media for media, kind in IMAGE_TYPES.items()}
#: An image's file name: `<book id>-<hash prefix>.<ext>` (nothing else is ever served).
IMAGE_NAME = (
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    rf"-[0-9a-f]{{{HASH_PREFIX}}}\.(?:jpg|png|webp)$"
)
_BINARY = {"schema": {"type": "string", "format": "binary"}}


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded image: its media type and its bytes (checked to be of that type)."""

    media_type: str
    data: bytes

    def name_for(self, book_id: UUID) -> str:
        """The image's file name, for this book."""
        digest = hashlib.sha256(self.data).hexdigest()[:HASH_PREFIX]
        return f"{book_id}-{digest}.{IMAGE_TYPES[self.media_type].extension}"


def _too_large() -> ProblemError:
    return ProblemError(413, f"an image may be at most {MAX_IMAGE_BYTES} bytes (1 MiB)")


async def read_upload(request: Request) -> Upload:
    """The request body as an image: 415 for another media type, 413 beyond 1 MiB (read no
    further), 422 when the bytes do not begin as that type's do."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in IMAGE_TYPES:
        accepted = ", ".join(IMAGE_TYPES)
        raise ProblemError(
            415,
            f"an image is sent as the raw body, with Content-Type {accepted}",
            errors=[FieldProblem(header="Content-Type", detail=f"must be one of {accepted}")],
        )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_IMAGE_BYTES:
        raise _too_large()
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_IMAGE_BYTES:
            raise _too_large()
    data = bytes(received)
    # Starlette's cache of the body: the command's Idempotency-Key hash reads it again.
    request._body = data
    if not IMAGE_TYPES[media_type].matches(data):
        detail = f"the body is not {media_type}: it does not begin with that format's signature"
        raise ProblemError(422, detail, errors=[FieldProblem(pointer="#", detail=detail)])
    return Upload(media_type, data)


def _image_path(platform: PlatformDep, name: str) -> FilePath:
    return platform.settings.data_dir / "images" / name


def _store(path: FilePath, data: bytes) -> None:
    """Write the image unless it is there (its name holds its hash: same name, same bytes)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid4().hex}.part")
    partial.write_bytes(data)
    os.replace(partial, path)  # readers never see half an image


def _send_image(
    commands: Commands, repository: Repository, book_id: UUID, name: str, save: Callable[[], None]
) -> Response:
    """One try: `UpdateBookDetails` with the book's name and description as the write side has
    them now, decided at exactly that version (a change in between is a `StaleVersion`)."""
    book = repository.load(Book, book_id)
    if not book.exists:
        book.require_live()  # 404
    version = book.version if commands.expected_version is None else commands.expected_version

    def before(_command: Command) -> None:
        # After the idempotency check (a replay writes nothing), before the command: a deleted
        # book or a stale If-Match leaves no file behind.
        book.require_live()
        if version != book.version:
            raise StaleVersion("stale_version", f"{book.stream} is at version {book.version}")
        save()

    return commands.send(
        lambda e: UpdateBookDetails(
            **(e | {"expected_version": version}),
            book_id=book_id,
            name=book.name,
            description=book.description,
            image=name,
        ),
        before=before,
    )


UploadDep = Annotated[Upload, Depends(read_upload)]


@router.put(
    "/books/{book_id}/image",
    response_model=CommandAnswer,
    responses=declared(400, 401, 403, 404, 409, 412, 413, 415, 422, 429),
    summary="Upload a book's image",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The image's bytes (at most 1 MiB), not multipart.",
            "content": dict.fromkeys(IMAGE_TYPES, _BINARY),
        }
    },
)
def upload_image(
    book_id: UUID,
    platform: PlatformDep,
    _admin: AdminCaller,
    upload: UploadDep,
    commands: Commands,
) -> Response:
    """Replace a book's image with the request body: JPEG, PNG or WebP (its `Content-Type`;
    415 otherwise), at most 1 MiB (413), whose bytes are of that type (422).

    The book's details then name the image (`image`: `<book id>-<hash>.<ext>`, served at
    `/api/v1/images/{name}`); its name and description stay as they are.
    """
    name = upload.name_for(book_id)
    path = _image_path(platform, name)
    repository = platform.bus.services.repository
    for _ in range(IMAGE_RETRIES - 1):
        try:
            return _send_image(
                commands, repository, book_id, name, lambda: _store(path, upload.data)
            )
        except StaleVersion:
            if commands.expected_version is not None:
                raise
    return _send_image(commands, repository, book_id, name, lambda: _store(path, upload.data))


_IMAGE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"description": "The image's bytes", "content": dict.fromkeys(IMAGE_TYPES, _BINARY)}
}


@router.get(
    "/images/{name}",
    response_class=Response,
    responses={**_IMAGE_ANSWER, **declared(400, 401, 404, 422, 429)},
    summary="Get a book's image",
)
def image(
    name: Annotated[str, Path(pattern=IMAGE_NAME, description="`<book id>-<hash>.<ext>`")],
    platform: PlatformDep,
    _caller: Anyone,
) -> Response:
    """An uploaded image, as its bytes; it never changes (a new upload has a new name), so it
    may be cached for good."""
    path = _image_path(platform, name)
    if not path.is_file():
        raise ProblemError(404, f"there is no image {name}")
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES[path.suffix.removeprefix(".")],
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
