"""Contains all the data models used in inputs/outputs"""

from .accept_request import AcceptRequest
from .accept_response import AcceptResponse
from .accepted import Accepted
from .acquire_response import AcquireResponse
from .action import Action
from .activate_response import ActivateResponse
from .app_key_view import AppKeyView
from .app_role import AppRole
from .app_view import AppView
from .apps_page import AppsPage
from .associate_body import AssociateBody
from .associate_response_201 import AssociateResponse201
from .associate_response_207 import AssociateResponse207
from .audit_log import AuditLog
from .audit_record import AuditRecord
from .audit_record_detail import AuditRecordDetail
from .audit_view import AuditView
from .audit_view_detail import AuditViewDetail
from .auto_mem_error_body import AutoMemErrorBody
from .backoff import Backoff
from .backup_created import BackupCreated
from .backup_meta import BackupMeta
from .backup_upload_request import BackupUploadRequest
from .backup_upload_started import BackupUploadStarted
from .billing_event import BillingEvent
from .billing_event_detail import BillingEventDetail
from .billing_events import BillingEvents
from .by_tag_response_200 import ByTagResponse200
from .capabilities_view import CapabilitiesView
from .change_password_request import ChangePasswordRequest
from .change_role_request import ChangeRoleRequest
from .checkout_request import CheckoutRequest
from .checkout_response import CheckoutResponse
from .claim_domain import ClaimDomain
from .create_app import CreateApp
from .create_app_key import CreateAppKey
from .create_export_body import CreateExportBody
from .create_export_response_202 import CreateExportResponse202
from .create_key_request import CreateKeyRequest
from .create_request import CreateRequest
from .create_route import CreateRoute
from .created_key_response import CreatedKeyResponse
from .cron_trigger_body import CronTriggerBody
from .data_trigger_body import DataTriggerBody
from .dead_letter_count import DeadLetterCount
from .dead_letter_status import DeadLetterStatus
from .dead_letter_trigger_body import DeadLetterTriggerBody
from .dead_letter_view import DeadLetterView
from .dead_letters import DeadLetters
from .dead_letters_page import DeadLettersPage
from .delete_by_tag_response_200 import DeleteByTagResponse200
from .delete_memory_response_200 import DeleteMemoryResponse200
from .delete_request import DeleteRequest
from .delete_response import DeleteResponse
from .delete_response_400 import DeleteResponse400
from .delete_response_404 import DeleteResponse404
from .dispatch import Dispatch
from .domain_status import DomainStatus
from .domain_view import DomainView
from .domains_view import DomainsView
from .download_url import DownloadUrl
from .email_request import EmailRequest
from .entitlements_view import EntitlementsView
from .erase_accepted import EraseAccepted
from .erase_request import EraseRequest
from .export_queued import ExportQueued
from .export_status import ExportStatus
from .export_status_response_200 import ExportStatusResponse200
from .field_error_doc import FieldErrorDoc
from .figures import Figures
from .get_memory_response_200 import GetMemoryResponse200
from .health_response_200 import HealthResponse200
from .heartbeat_response import HeartbeatResponse
from .hold_request import HoldRequest
from .invitation_response import InvitationResponse
from .invitations_response import InvitationsResponse
from .invite_request import InviteRequest
from .key_machine_body import KeyMachineBody
from .key_response import KeyResponse
from .key_status import KeyStatus
from .keys_response import KeysResponse
from .level import Level
from .license_list import LicenseList
from .license_summary import LicenseSummary
from .license_view import LicenseView
from .log_line import LogLine
from .log_view import LogView
from .login_request import LoginRequest
from .logs_page import LogsPage
from .me_response import MeResponse
from .member_response import MemberResponse
from .member_view import MemberView
from .members_page import MembersPage
from .members_response import MembersResponse
from .membership_view import MembershipView
from .method import Method
from .op import Op
from .org_detail import OrgDetail
from .org_detail_subscription import OrgDetailSubscription
from .org_license import OrgLicense
from .org_response import OrgResponse
from .org_summary import OrgSummary
from .page_audit_record import PageAuditRecord
from .page_audit_record_items_item import PageAuditRecordItemsItem
from .page_audit_record_items_item_detail import PageAuditRecordItemsItemDetail
from .page_license_summary import PageLicenseSummary
from .page_license_summary_items_item import PageLicenseSummaryItemsItem
from .page_org_summary import PageOrgSummary
from .page_org_summary_items_item import PageOrgSummaryItemsItem
from .page_user_summary import PageUserSummary
from .page_user_summary_items_item import PageUserSummaryItemsItem
from .patch_app import PatchApp
from .plan_list import PlanList
from .plan_view import PlanView
from .plan_view_features import PlanViewFeatures
from .point import Point
from .portal_request import PortalRequest
from .portal_response import PortalResponse
from .post_body import PostBody
from .post_response_200 import PostResponse200
from .post_response_400 import PostResponse400
from .post_response_404 import PostResponse404
from .preseed_body import PreseedBody
from .preseed_response_201 import PreseedResponse201
from .price_view import PriceView
from .problem_details import ProblemDetails
from .profile_view import ProfileView
from .profile_view_hold_type_0 import ProfileViewHoldType0
from .public_key_info import PublicKeyInfo
from .pubsub_trigger_body import PubsubTriggerBody
from .recall_response_200 import RecallResponse200
from .record_created import RecordCreated
from .record_meta import RecordMeta
from .record_updated import RecordUpdated
from .records_page import RecordsPage
from .reembed_body import ReembedBody
from .reembed_response_200 import ReembedResponse200
from .reembed_response_202 import ReembedResponse202
from .refresh_request import RefreshRequest
from .register_request import RegisterRequest
from .register_response import RegisterResponse
from .related_response_200 import RelatedResponse200
from .rename_request import RenameRequest
from .replace_request import ReplaceRequest
from .replayed import Replayed
from .request_summary import RequestSummary
from .reset_password_request import ResetPasswordRequest
from .resolve_body import ResolveBody
from .retry_body import RetryBody
from .retry_policy import RetryPolicy
from .role import Role
from .route_view import RouteView
from .routes_view import RoutesView
from .run_status import RunStatus
from .script_body import ScriptBody
from .script_body_sandbox_type_0 import ScriptBodySandboxType0
from .script_kind import ScriptKind
from .script_view import ScriptView
from .script_view_sandbox import ScriptViewSandbox
from .scripts_page import ScriptsPage
from .search_hit import SearchHit
from .search_request import SearchRequest
from .search_response import SearchResponse
from .series import Series
from .service_profile_response_200 import ServiceProfileResponse200
from .service_profile_view import ServiceProfileView
from .session_body import SessionBody
from .session_view import SessionView
from .sessions_page import SessionsPage
from .set_member import SetMember
from .signed_upload_body import SignedUploadBody
from .signed_upload_body_headers import SignedUploadBodyHeaders
from .startup_recall_response_200 import StartupRecallResponse200
from .stats_response_200 import StatsResponse200
from .status import Status
from .store_batch_body import StoreBatchBody
from .store_batch_response_201 import StoreBatchResponse201
from .store_body import StoreBody
from .store_response_201 import StoreResponse201
from .subscription_response import SubscriptionResponse
from .switch_org_request import SwitchOrgRequest
from .token_pair import TokenPair
from .trigger_kind import TriggerKind
from .trigger_view import TriggerView
from .triggers_view import TriggersView
from .update_me_request import UpdateMeRequest
from .update_memory_body import UpdateMemoryBody
from .update_memory_response_200 import UpdateMemoryResponse200
from .upload_request import UploadRequest
from .upload_started import UploadStarted
from .upsert_request import UpsertRequest
from .upsert_response import UpsertResponse
from .usage import Usage
from .user_detail import UserDetail
from .user_status import UserStatus
from .user_summary import UserSummary
from .validate_body import ValidateBody
from .validate_response import ValidateResponse
from .validation_license import ValidationLicense
from .vector_item import VectorItem
from .verified_response import VerifiedResponse
from .webhook_ack import WebhookAck

__all__ = (
    "AcceptRequest",
    "AcceptResponse",
    "Accepted",
    "AcquireResponse",
    "Action",
    "ActivateResponse",
    "AppKeyView",
    "AppRole",
    "AppView",
    "AppsPage",
    "AssociateBody",
    "AssociateResponse201",
    "AssociateResponse207",
    "AuditLog",
    "AuditRecord",
    "AuditRecordDetail",
    "AuditView",
    "AuditViewDetail",
    "AutoMemErrorBody",
    "Backoff",
    "BackupCreated",
    "BackupMeta",
    "BackupUploadRequest",
    "BackupUploadStarted",
    "BillingEvent",
    "BillingEventDetail",
    "BillingEvents",
    "ByTagResponse200",
    "CapabilitiesView",
    "ChangePasswordRequest",
    "ChangeRoleRequest",
    "CheckoutRequest",
    "CheckoutResponse",
    "ClaimDomain",
    "CreateApp",
    "CreateAppKey",
    "CreateExportBody",
    "CreateExportResponse202",
    "CreateKeyRequest",
    "CreateRequest",
    "CreateRoute",
    "CreatedKeyResponse",
    "CronTriggerBody",
    "DataTriggerBody",
    "DeadLetterCount",
    "DeadLetterStatus",
    "DeadLetterTriggerBody",
    "DeadLetterView",
    "DeadLetters",
    "DeadLettersPage",
    "DeleteByTagResponse200",
    "DeleteMemoryResponse200",
    "DeleteRequest",
    "DeleteResponse",
    "DeleteResponse400",
    "DeleteResponse404",
    "Dispatch",
    "DomainStatus",
    "DomainView",
    "DomainsView",
    "DownloadUrl",
    "EmailRequest",
    "EntitlementsView",
    "EraseAccepted",
    "EraseRequest",
    "ExportQueued",
    "ExportStatus",
    "ExportStatusResponse200",
    "FieldErrorDoc",
    "Figures",
    "GetMemoryResponse200",
    "HealthResponse200",
    "HeartbeatResponse",
    "HoldRequest",
    "InvitationResponse",
    "InvitationsResponse",
    "InviteRequest",
    "KeyMachineBody",
    "KeyResponse",
    "KeyStatus",
    "KeysResponse",
    "Level",
    "LicenseList",
    "LicenseSummary",
    "LicenseView",
    "LogLine",
    "LogView",
    "LoginRequest",
    "LogsPage",
    "MeResponse",
    "MemberResponse",
    "MemberView",
    "MembersPage",
    "MembersResponse",
    "MembershipView",
    "Method",
    "Op",
    "OrgDetail",
    "OrgDetailSubscription",
    "OrgLicense",
    "OrgResponse",
    "OrgSummary",
    "PageAuditRecord",
    "PageAuditRecordItemsItem",
    "PageAuditRecordItemsItemDetail",
    "PageLicenseSummary",
    "PageLicenseSummaryItemsItem",
    "PageOrgSummary",
    "PageOrgSummaryItemsItem",
    "PageUserSummary",
    "PageUserSummaryItemsItem",
    "PatchApp",
    "PlanList",
    "PlanView",
    "PlanViewFeatures",
    "Point",
    "PortalRequest",
    "PortalResponse",
    "PostBody",
    "PostResponse200",
    "PostResponse400",
    "PostResponse404",
    "PreseedBody",
    "PreseedResponse201",
    "PriceView",
    "ProblemDetails",
    "ProfileView",
    "ProfileViewHoldType0",
    "PublicKeyInfo",
    "PubsubTriggerBody",
    "RecallResponse200",
    "RecordCreated",
    "RecordMeta",
    "RecordUpdated",
    "RecordsPage",
    "ReembedBody",
    "ReembedResponse200",
    "ReembedResponse202",
    "RefreshRequest",
    "RegisterRequest",
    "RegisterResponse",
    "RelatedResponse200",
    "RenameRequest",
    "ReplaceRequest",
    "Replayed",
    "RequestSummary",
    "ResetPasswordRequest",
    "ResolveBody",
    "RetryBody",
    "RetryPolicy",
    "Role",
    "RouteView",
    "RoutesView",
    "RunStatus",
    "ScriptBody",
    "ScriptBodySandboxType0",
    "ScriptKind",
    "ScriptView",
    "ScriptViewSandbox",
    "ScriptsPage",
    "SearchHit",
    "SearchRequest",
    "SearchResponse",
    "Series",
    "ServiceProfileResponse200",
    "ServiceProfileView",
    "SessionBody",
    "SessionView",
    "SessionsPage",
    "SetMember",
    "SignedUploadBody",
    "SignedUploadBodyHeaders",
    "StartupRecallResponse200",
    "StatsResponse200",
    "Status",
    "StoreBatchBody",
    "StoreBatchResponse201",
    "StoreBody",
    "StoreResponse201",
    "SubscriptionResponse",
    "SwitchOrgRequest",
    "TokenPair",
    "TriggerKind",
    "TriggerView",
    "TriggersView",
    "UpdateMeRequest",
    "UpdateMemoryBody",
    "UpdateMemoryResponse200",
    "UploadRequest",
    "UploadStarted",
    "UpsertRequest",
    "UpsertResponse",
    "Usage",
    "UserDetail",
    "UserStatus",
    "UserSummary",
    "ValidateBody",
    "ValidateResponse",
    "ValidationLicense",
    "VectorItem",
    "VerifiedResponse",
    "WebhookAck",
)
