"""HTTP routes of the referral service."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
