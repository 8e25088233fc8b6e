from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.backup_upload_request import BackupUploadRequest
from ...models.backup_upload_started import BackupUploadStarted
from ...models.problem_details import ProblemDetails
from ...types import Response


def _get_kwargs(
    *,
    body: BackupUploadRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/backup/uploads",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BackupUploadStarted | ProblemDetails | None:
    if response.status_code == 201:
        response_201 = BackupUploadStarted.from_dict(response.json())

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
) -> Response[BackupUploadStarted | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BackupUploadRequest,
) -> Response[BackupUploadStarted | ProblemDetails]:
    """Start a large backup's upload: the bytes go straight to the blob store through
    the signed URL (with the headers given: the store refuses other bytes), then
    `POST /api/v1/backup/{id}/commit` makes the backup visible. Its bytes count
    against the plan from now on; an upload never committed is swept and its
    bytes released.

    Args:
        body (BackupUploadRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackupUploadStarted | ProblemDetails]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: BackupUploadRequest,
) -> BackupUploadStarted | ProblemDetails | None:
    """Start a large backup's upload: the bytes go straight to the blob store through
    the signed URL (with the headers given: the store refuses other bytes), then
    `POST /api/v1/backup/{id}/commit` makes the backup visible. Its bytes count
    against the plan from now on; an upload never committed is swept and its
    bytes released.

    Args:
        body (BackupUploadRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackupUploadStarted | ProblemDetails
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BackupUploadRequest,
) -> Response[BackupUploadStarted | ProblemDetails]:
    """Start a large backup's upload: the bytes go straight to the blob store through
    the signed URL (with the headers given: the store refuses other bytes), then
    `POST /api/v1/backup/{id}/commit` makes the backup visible. Its bytes count
    against the plan from now on; an upload never committed is swept and its
    bytes released.

    Args:
        body (BackupUploadRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackupUploadStarted | ProblemDetails]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BackupUploadRequest,
) -> BackupUploadStarted | ProblemDetails | None:
    """Start a large backup's upload: the bytes go straight to the blob store through
    the signed URL (with the headers given: the store refuses other bytes), then
    `POST /api/v1/backup/{id}/commit` makes the backup visible. Its bytes count
    against the plan from now on; an upload never committed is swept and its
    bytes released.

    Args:
        body (BackupUploadRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackupUploadStarted | ProblemDetails
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
