#!/usr/bin/env bash
# Private PulseAudio with virtual devices, for shell use (tests, benches, CI by hand).
#   scripts/pulse-virtual.sh start DIR   start it; prints `export PULSE_SERVER=...`
#   scripts/pulse-virtual.sh stop DIR    stop it
# Devices: sink "speaker" (record with `parec -d speaker.monitor`), source "mic" fed by
# DIR/mic.fifo (s16le, 16 kHz, mono). Same setup as tests/support/pulse.py.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
    echo "usage: $0 start|stop DIR" >&2; exit 2
fi
mkdir -p "$dir/pulse"; chmod 700 "$dir"; dir=$(cd "$dir" && pwd)
socket="$dir/pulse/native"
export PULSE_SERVER="unix:$socket"
case "$cmd" in
start)
    command -v pulseaudio >/dev/null || { echo "apt-get install pulseaudio pulseaudio-utils" >&2; exit 1; }
    XDG_RUNTIME_DIR="$dir" PULSE_RUNTIME_PATH="$dir/pulse" XDG_CONFIG_HOME="$dir/config" HOME="$dir" \
        env -u PULSE_SERVER pulseaudio --daemonize=no --exit-idle-time=-1 -n --disable-shm=yes \
        --load="module-native-protocol-unix auth-anonymous=1 socket=$socket" \
        --load="module-null-sink sink_name=speaker rate=48000" \
        --load="module-pipe-source source_name=mic file=$dir/mic.fifo format=s16le rate=16000 channels=1" \
        >"$dir/pulseaudio.log" 2>&1 &
    echo $! >"$dir/server.pid"
    for _ in $(seq 100); do pactl info >/dev/null 2>&1 && break; sleep 0.05; done
    pactl info >/dev/null || { cat "$dir/pulseaudio.log" >&2; exit 1; }
    pactl set-default-sink speaker; pactl set-default-source mic
    # Keep the null sink at sound-card latency (see _hold_latency in tests/support/pulse.py).
    pacat --playback --device=speaker --raw --format=s16le --rate=48000 --channels=1 \
        --latency-msec=10 /dev/zero >/dev/null 2>&1 &
    echo $! >"$dir/keepalive.pid"
    sleep 2.2  # the sink catches up with the 2 s it rendered ahead while idle
    echo "export PULSE_SERVER=$PULSE_SERVER"
    ;;
stop)
    for f in keepalive.pid server.pid; do
        [[ -f "$dir/$f" ]] && kill "$(cat "$dir/$f")" 2>/dev/null || true
        rm -f "$dir/$f"
    done
    ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
