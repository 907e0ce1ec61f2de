"""Audio: prompts converted to telephony format, call recordings and voicemail (pydub)."""
