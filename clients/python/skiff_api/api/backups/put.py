from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.backup_created import BackupCreated
from ...models.problem_details import ProblemDetails
from ...types import Response


def _get_kwargs(
    *,
    body: list[int],
    x_backup_version: str,
    x_backup_timestamp: int,
    x_backup_checksum: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["X-Backup-Version"] = x_backup_version

    headers["X-Backup-Timestamp"] = str(x_backup_timestamp)

    headers["X-Backup-Checksum"] = x_backup_checksum

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/backup",
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BackupCreated | ProblemDetails | None:
    if response.status_code == 201:
        response_201 = BackupCreated.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ProblemDetails.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ProblemDetails.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemDetails.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = ProblemDetails.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ProblemDetails.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if response.status_code == 423:
        response_423 = ProblemDetails.from_dict(response.json())

        return response_423

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[BackupCreated | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: list[int],
    x_backup_version: str,
    x_backup_timestamp: int,
    x_backup_checksum: str,
) -> Response[BackupCreated | ProblemDetails]:
    """Store a backup: the raw body, streamed (never held whole), with
    `X-Backup-Version`, `X-Backup-Timestamp` (unix ms) and `X-Backup-Checksum`
    (hex SHA-256 of the body). A body that does not match the checksum stores
    nothing. Older backups beyond the retention go. Bodies over 4 MiB go through
    `POST /api/v1/backup/uploads` instead.

    Args:
        x_backup_version (str):
        x_backup_timestamp (int):
        x_backup_checksum (str):
        body (list[int]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackupCreated | ProblemDetails]
    """

    kwargs = _get_kwargs(
        body=body,
        x_backup_version=x_backup_version,
        x_backup_timestamp=x_backup_timestamp,
        x_backup_checksum=x_backup_checksum,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: list[int],
    x_backup_version: str,
    x_backup_timestamp: int,
    x_backup_checksum: str,
) -> BackupCreated | ProblemDetails | None:
    """Store a backup: the raw body, streamed (never held whole), with
    `X-Backup-Version`, `X-Backup-Timestamp` (unix ms) and `X-Backup-Checksum`
    (hex SHA-256 of the body). A body that does not match the checksum stores
    nothing. Older backups beyond the retention go. Bodies over 4 MiB go through
    `POST /api/v1/backup/uploads` instead.

    Args:
        x_backup_version (str):
        x_backup_timestamp (int):
        x_backup_checksum (str):
        body (list[int]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackupCreated | ProblemDetails
    """

    return sync_detailed(
        client=client,
        body=body,
        x_backup_version=x_backup_version,
        x_backup_timestamp=x_backup_timestamp,
        x_backup_checksum=x_backup_checksum,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: list[int],
    x_backup_version: str,
    x_backup_timestamp: int,
    x_backup_checksum: str,
) -> Response[BackupCreated | ProblemDetails]:
    """Store a backup: the raw body, streamed (never held whole), with
    `X-Backup-Version`, `X-Backup-Timestamp` (unix ms) and `X-Backup-Checksum`
    (hex SHA-256 of the body). A body that does not match the checksum stores
    nothing. Older backups beyond the retention go. Bodies over 4 MiB go through
    `POST /api/v1/backup/uploads` instead.

    Args:
        x_backup_version (str):
        x_backup_timestamp (int):
        x_backup_checksum (str):
        body (list[int]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackupCreated | ProblemDetails]
    """

    kwargs = _get_kwargs(
        body=body,
        x_backup_version=x_backup_version,
        x_backup_timestamp=x_backup_timestamp,
        x_backup_checksum=x_backup_checksum,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: list[int],
    x_backup_version: str,
    x_backup_timestamp: int,
    x_backup_checksum: str,
) -> BackupCreated | ProblemDetails | None:
    """Store a backup: the raw body, streamed (never held whole), with
    `X-Backup-Version`, `X-Backup-Timestamp` (unix ms) and `X-Backup-Checksum`
    (hex SHA-256 of the body). A body that does not match the checksum stores
    nothing. Older backups beyond the retention go. Bodies over 4 MiB go through
    `POST /api/v1/backup/uploads` instead.

    Args:
        x_backup_version (str):
        x_backup_timestamp (int):
        x_backup_checksum (str):
        body (list[int]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackupCreated | ProblemDetails
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            x_backup_version=x_backup_version,
            x_backup_timestamp=x_backup_timestamp,
            x_backup_checksum=x_backup_checksum,
        )
    ).parsed
