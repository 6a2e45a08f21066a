"""The ``video_keyframe`` signal type: the keypoint signature of a video's keyframe.

One value per video (``variant ""``): the ORB signature (``kp2:``, the ``keypoints`` format) of
the sampled frame with most keypoints in the middle third of the video
(``takedown.robust.video.keyframe_signature``). Bank entries hold it beside the video's vPDQ
value, so that a cropped or overlaid copy, whose every frame PDQ misses, can still be verified
against the original; content holds it so that later copies find earlier ones.

``distance`` and thresholds are the ``keypoints`` type's (``64 - RANSAC inliers``). The matcher
never compares values pairwise: ``takedown.robust.video_stage`` searches a descriptor index with
the query's sampled frames (and their mirrors) and verifies the candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

from takedown.robust.features import KEEP, encode
from takedown.robust.signal import KeypointSignal
from takedown.robust.verify import MIN_INLIERS
from takedown.robust.video import keyframe_signature, sample_frames
from takedown.signals.base import SignalValue, UnhashableContent

NAME = "video_keyframe"
#: Frames per second sampled for the keyframe (the bank side; queries sample at QUERY_RATE).
KEYFRAME_RATE = 1.0


class VideoKeyframeSignal(KeypointSignal):
    """Keyframe keypoints of a video: crops and overlays of banked videos (see module doc)."""

    name = NAME
    content_kinds = frozenset({"video"})

    def hash_stream(self, stream: BinaryIO) -> Sequence[SignalValue]:
        sig = keyframe_signature(sample_frames(stream, rate=KEYFRAME_RATE))
        if len(sig) < MIN_INLIERS:
            raise UnhashableContent(
                f"too few keypoints in the keyframe ({len(sig)}): a flat video; vPDQ alone applies"
            )
        quality = min(100, round(100 * len(sig) / KEEP))
        return [SignalValue(NAME, encode(sig), quality, False, "", {"keypoints": str(len(sig))})]
