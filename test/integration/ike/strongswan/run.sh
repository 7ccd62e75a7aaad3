#!/bin/bash
# Manual interop check, meshgate <-> strongSwan 5.9 charon (kernel-libipsec), as root:
#   test/integration/ike/strongswan/run.sh            both roles: establish, rekeys, delete, DPD
#   test/integration/ike/strongswan/run.sh down       clean up
# Namespaces mg-ika (meshgate, 192.0.2.1) and mg-ikb (charon, 192.0.2.2) joined by one veth;
# nothing leaves them. Scratch files in ${OUT:-/tmp/mg-interop}.
# Not part of `npm test` (it needs charon and root); the interop suite can adopt it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
RUN=${OUT:-/tmp/mg-interop}
PLUGINS="random nonce openssl chapoly curve25519 aes gcm sha1 sha2 hmac kdf pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici"
V="--uri unix://$RUN/charon.vici"
sw() { swanctl "$@" $V 2>/dev/null; }
teardown() {
  [ -f "$RUN/charon.pid" ] && kill "$(cat "$RUN/charon.pid")" 2>/dev/null
  sleep 0.3
  for ns in mg-ika mg-ikb; do ip netns del $ns 2>/dev/null; done
  rm -f "$RUN/charon.pid"
}
if [ "${1:-}" = down ]; then teardown; exit 0; fi
teardown
trap teardown EXIT
trap 'exit 130' INT TERM
rm -rf "$RUN"; mkdir -p "$RUN/run"
ip netns add mg-ika; ip netns add mg-ikb
ip link add mgwan0 netns mg-ika type veth peer name mgwan0 netns mg-ikb
ip -n mg-ika addr add 192.0.2.1/24 dev mgwan0; ip -n mg-ikb addr add 192.0.2.2/24 dev mgwan0
ip -n mg-ikb addr add 10.2.0.1/16 dev lo   # charon needs a local address inside its selector
for ns in mg-ika mg-ikb; do ip -n $ns link set lo up; ip -n $ns link set mgwan0 up; done
cat > "$RUN/strongswan.conf" <<EOC
charon {
  load_modular = no
  load = $PLUGINS
  install_routes = no
  retransmit_timeout = 2
  filelog { log { path = $RUN/charon.log
                  default = 1
                  ike = 2
                  time_format = %T } }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$RUN/charon.vici } }
}
EOC
cat > "$RUN/swanctl.conf" <<EOC
connections {
  mg {
    version = 2
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    local_port = 4500     # meshgate speaks IKE only on 4500, with the non-ESP marker
    remote_port = 4500
    encap = yes
    proposals = ${IKE:-chacha20poly1305-prfsha256-x25519}
    dpd_delay = 10s
    local  { auth = psk
             id = charon.test }
    remote { auth = psk
             id = mg.test }
    children {
      mg {
        mode = tunnel
        local_ts = 10.2.0.0/16
        remote_ts = 10.1.0.0/16
        esp_proposals = ${ESP:-chacha20poly1305}
        start_action = none
      }
    }
  }
}
secrets {
  ike-mg { id-a = charon.test
           id-b = mg.test
           secret = "interop-psk-0123456789" }
}
EOC
ip netns exec mg-ikb unshare -m --propagation private sh -c \
  "mount --bind '$RUN/run' /run && STRONGSWAN_CONF='$RUN/strongswan.conf' exec /usr/lib/ipsec/charon" >"$RUN/charon.out" 2>&1 &
echo $! > "$RUN/charon.pid"
for i in $(seq 50); do sw --stats >/dev/null && break; sleep 0.1; done
sw --load-all --file "$RUN/swanctl.conf" >/dev/null || exit 1
node_mg() { (cd "$ROOT" && timeout 60 ip netns exec mg-ika node --import tsx "$HERE/mg-node.mts" "$@"); }

echo "== meshgate initiates: establish, child rekey, IKE rekey, delete"
REKEY=1 DEL=1 node_mg initiator 9 | tee "$RUN/mg-initiator.out" | grep -v '^plugin'
echo "== strongSwan initiates: establish, child rekey, IKE rekey, delete"
node_mg responder 12 > "$RUN/mg-responder.out" 2>&1 &
MG=$!
sleep 2.5
sw --initiate --child mg --timeout 5 | tail -1
sleep 1; sw --rekey --child mg | tail -1
sleep 1; sw --rekey --ike mg | tail -1
sleep 1; sw --terminate --ike mg --timeout 5 | tail -1
wait $MG
grep -v '^plugin' "$RUN/mg-responder.out"
echo "== wrong PSK"
PSK=wrong-psk-00000000 node_mg initiator 3 | grep -E 'AUTH|auth-failed'
