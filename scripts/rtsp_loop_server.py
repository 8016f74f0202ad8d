"""Serve an H.264 .mp4 over RTSP on 127.0.0.1, looping forever, for tests and demos.

Usage: rtsp_loop_server.py FILE [PORT] [MOUNT] [--once]      (prints the URL once it listens)

--once plays the file once per client, without the looping seek. The loop needs a flushing segment seek right after
the media is prepared; a client's PLAY that arrives while that seek re-prerolls (likely on a busy machine) makes
gst-rtsp-server 1.22 abort the whole process ("gst_rtsp_media_get_rates: assertion failed"). The tests therefore
serve a long, already looped file with --once.

Run it with Debian's python3 (it needs python3-gi and gir1.2-gst-rtsp-server-1.0).
Each client gets its own pipeline (shared=False), so every client starts at an IDR frame and a new client never
re-seeks the others. RTP is carried inside the RTSP TCP connection only: no UDP sockets on 0.0.0.0.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def seek_to_start(pipeline, flags):
    pipeline.seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)
    return False


def configure(_factory, media):
    """Plays the file as a segment; at its end seeks back without flushing, so RTP timestamps keep growing.

    (Subclassing RTSPMedia to catch SEGMENT_DONE on the bus breaks with Debian 12's PyGObject 3.42, so the
    segment-done event is caught by a probe on the payloader's input instead.)
    """
    pipeline = media.get_element()

    def on_event(_pad, info):
        if info.get_event().type == Gst.EventType.SEGMENT_DONE:
            GLib.idle_add(seek_to_start, pipeline, Gst.SeekFlags.SEGMENT)
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name("pay0").get_static_pad("sink").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, on_event)
    media.connect("prepared", lambda m: seek_to_start(m.get_element(), Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT))


def main():
    args = [a for a in sys.argv[1:] if a != "--once"]
    once = len(args) < len(sys.argv) - 1
    if not args:
        sys.exit(__doc__)
    path = args[0]
    port = args[1] if len(args) > 1 else "8554"
    mount = args[2] if len(args) > 2 else "/cam"
    Gst.init(None)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f'( filesrc location="{path}" ! qtdemux ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )')
    factory.set_shared(False)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    if not once:
        factory.connect("media-configure", configure)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{port}")
    print(f"rtsp://127.0.0.1:{port}{mount}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
