// meshgate native fast path: the per-packet work of established flows, off the JavaScript
// thread (issue 4). TypeScript stays the control plane; this file is the forwarding plane.
//
//   TUN fd --read()--> [tx thread] flow lookup -> TTL -> ESP seal --sendmmsg()--> UDP socket
//   UDP socket --recvmmsg()--> [rx thread] SPI -> replay check -> ESP open -> replay commit
//        -> flow lookup -> TTL -> write() to the TUN, or seal into another SA (hub hairpin)
//
// Two data threads (one per direction) and the JavaScript thread share the SA, tunnel and
// flow tables under a reader/writer lock: the data threads hold it shared for one batch,
// JavaScript takes it exclusively to install or remove an SA or a flow. Outbound sequence
// numbers are atomic; every SA has one EVP context per thread role, so no context is ever
// used by two threads; the replay window has its own small mutex.
//
// What the fast path does not handle goes up to JavaScript unchanged, in batches, through a
// thread-safe function ("punts"):
//   kind 1  a UDP datagram (IKE with the non-ESP marker, keepalives, unknown SPIs, anything
//           too short to be ESP), with the sender's address;
//   kind 2  a decrypted, authenticated inner packet of a known inbound SA whose flow is not
//           offloaded (or that is not eligible: SYN/FIN/RST, fragments, ICMP other than echo
//           request/reply, other protocols, TTL <= 1, too big for its egress), with the SPI;
//   kind 3  a packet read from the TUN whose flow is not offloaded (or not eligible).
// Malformed ESP (bad length, replay, ICV failure, bad padding) is counted and dropped here.
//
// Wire format: ESP in UDP (RFC 3948), AEAD ENCR_CHACHA20_POLY1305 (RFC 7634) and
// ENCR_AES_GCM_16 (RFC 4106), 8-octet explicit IV = 0^32 || sequence number, AAD = SPI ||
// sequence number, padding 1, 2, 3, ... to a 4-octet boundary; byte for byte the format of
// src/engine/esp/esp-packet.ts (test/unit/fastpath checks that).
//
// Crypto: OpenSSL's EVP through the symbols Node exports (Node's own OpenSSL headers).

#include <napi.h>

#include <openssl/evp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr int kBatch = 64;
constexpr size_t kSlot = 65536 + 64;
constexpr size_t kEspHeader = 8;
constexpr size_t kEspIv = 8;
constexpr size_t kEspPayload = kEspHeader + kEspIv;  // 16
constexpr size_t kIcv = 16;
constexpr size_t kMaxInner = kSlot - kEspPayload - 3 - 2 - kIcv;
constexpr uint32_t kMaxPendingPunts = 8192;
enum Role { kRoleTx = 0, kRoleRx = 1, kRoleJs = 2, kRoles = 3 };
enum Suite { kChaCha = 0, kAesGcm = 1 };
enum PuntKind { kPuntUdp = 1, kPuntDecrypted = 2, kPuntTun = 3 };
enum Action { kActTun = 1, kActTunnel = 2 };

uint32_t Rd32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
void Wr32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// ---- counters ------------------------------------------------------------------------------

#define FP_COUNTERS(X)                                                                                   \
  X(udpRxPackets) X(udpRxBatches) X(udpTxPackets) X(udpTxBatches) X(udpTxErrors) X(tunRxPackets)         \
  X(tunRxBatches) X(tunTxPackets) X(tunTxErrors) X(espRxPackets) X(espRxBytes) X(espTxPackets)           \
  X(espTxBytes) X(offloadedIn) X(offloadedOut) X(hairpin) X(puntUdp) X(puntDecrypted) X(puntTun)        \
  X(puntOverflow) X(dropReplay) X(dropAuthFailed) X(dropMalformed) X(dropDummy) X(dropSeqExhausted)     \
  X(dropTooLong)

struct Counters {
#define FP_DECL(n) std::atomic<uint64_t> n{0};
  FP_COUNTERS(FP_DECL)
#undef FP_DECL
};

inline void Inc(std::atomic<uint64_t>& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

// ---- SAs -------------------------------------------------------------------------------

struct Sa {
  uint32_t spi = 0;
  bool inbound = false;
  int suite = kChaCha;
  uint32_t tunnel = 0;
  uint8_t salt[4] = {0, 0, 0, 0};
  EVP_CIPHER_CTX* ctx[kRoles] = {nullptr, nullptr, nullptr};
  // outbound
  std::atomic<uint64_t> seq{0};
  struct sockaddr_storage peer;
  socklen_t peerLen = 0;
  // inbound: RFC 6479-style ring of 32-bit words
  std::mutex replayMu;
  uint32_t top = 0;
  uint32_t windowSize = 2048;
  std::vector<uint32_t> bitmap;
  uint32_t wordMask = 0;
  // traffic (inner octets)
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> dropReplay{0};
  std::atomic<uint64_t> dropAuth{0};

  ~Sa() {
    for (auto*& c : ctx) {
      if (c != nullptr) EVP_CIPHER_CTX_free(c);
      c = nullptr;
    }
  }

  bool Init(int suiteIn, const uint8_t* keymat, size_t keymatLen, bool encrypt) {
    suite = suiteIn;
    const EVP_CIPHER* cipher = nullptr;
    size_t keyLen = 0;
    if (suite == kChaCha) {
      cipher = EVP_chacha20_poly1305();
      keyLen = 32;
    } else {
      keyLen = keymatLen - 4;
      cipher = keyLen == 16 ? EVP_aes_128_gcm() : keyLen == 24 ? EVP_aes_192_gcm() : keyLen == 32 ? EVP_aes_256_gcm() : nullptr;
    }
    if (cipher == nullptr || keymatLen != keyLen + 4) return false;
    memcpy(salt, keymat + keyLen, 4);
    for (auto*& c : ctx) {
      c = EVP_CIPHER_CTX_new();
      if (c == nullptr) return false;
      if (EVP_CipherInit_ex(c, cipher, nullptr, nullptr, nullptr, encrypt ? 1 : 0) != 1) return false;
      if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) != 1) return false;
      if (EVP_CipherInit_ex(c, nullptr, nullptr, keymat, nullptr, encrypt ? 1 : 0) != 1) return false;
    }
    return true;
  }

  void InitWindow(uint32_t size) {
    windowSize = size;
    uint32_t words = 1;
    while (words < (size + 31) / 32 + 1) words <<= 1;
    bitmap.assign(words, 0);
    wordMask = words - 1;
  }

  // RFC 4303 3.4.3: check before decryption (no side effects) ...
  bool ReplayCheckLocked(uint32_t s) const {
    if (s == 0) return false;
    if (s > top) return true;
    if (top - s >= windowSize) return false;
    return (bitmap[(s >> 5) & wordMask] & (1u << (s & 31))) == 0;
  }
  // ... and commit only after authentication.
  bool ReplayCommit(uint32_t s) {
    std::lock_guard<std::mutex> g(replayMu);
    if (!ReplayCheckLocked(s)) return false;
    if (s > top) {
      uint32_t topWord = top >> 5, newWord = s >> 5;
      uint32_t clear = newWord - topWord;
      if (clear > bitmap.size()) clear = uint32_t(bitmap.size());
      for (uint32_t i = 1; i <= clear; i++) bitmap[(topWord + i) & wordMask] = 0;
      top = s;
    }
    bitmap[(s >> 5) & wordMask] |= 1u << (s & 31);
    return true;
  }
  bool ReplayCheck(uint32_t s) {
    std::lock_guard<std::mutex> g(replayMu);
    return ReplayCheckLocked(s);
  }

  // AEAD in place: buf[0, len) is encrypted/decrypted; the tag is written to / read from tag.
  bool Crypt(int role, const uint8_t* iv8, const uint8_t* aad8, uint8_t* buf, size_t len, uint8_t* tag, int aadLen = 8) {
    EVP_CIPHER_CTX* c = ctx[role];
    uint8_t nonce[12];
    memcpy(nonce, salt, 4);
    memcpy(nonce + 4, iv8, 8);
    int outl = 0;
    int enc = inbound ? 0 : 1;
    if (EVP_CipherInit_ex(c, nullptr, nullptr, nullptr, nonce, enc) != 1) return false;
    if (EVP_CipherUpdate(c, nullptr, &outl, aad8, aadLen) != 1) return false;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, int(kIcv), tag) != 1) return false;
    if (len > 0 && EVP_CipherUpdate(c, buf, &outl, buf, int(len)) != 1) return false;
    int fin = 0;
    if (EVP_CipherFinal_ex(c, buf + outl, &fin) != 1) return false;
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, int(kIcv), tag) != 1) return false;
    return true;
  }
};

// Seals the inner packet at pkt + 16 (length innerLen) in place into an ESP packet starting
// at pkt; returns the ESP length or 0 (sequence exhausted, crypto failure).
size_t SealInPlace(Sa& sa, int role, uint8_t* pkt, size_t innerLen, Counters& c) {
  uint64_t s = sa.seq.fetch_add(1, std::memory_order_relaxed) + 1;
  if (s > 0xffffffffull) {
    sa.seq.store(0xffffffffull, std::memory_order_relaxed);
    Inc(c.dropSeqExhausted);
    return 0;
  }
  uint8_t nh = (pkt[kEspPayload] >> 4) == 6 ? 41 : 4;
  size_t pad = (4 - ((innerLen + 2) % 4)) % 4;
  size_t payloadLen = innerLen + pad + 2;
  uint8_t* p = pkt + kEspPayload + innerLen;
  for (size_t i = 1; i <= pad; i++) *p++ = uint8_t(i);
  *p++ = uint8_t(pad);
  *p++ = nh;
  Wr32(pkt, sa.spi);
  Wr32(pkt + 4, uint32_t(s));
  Wr32(pkt + 8, 0);
  Wr32(pkt + 12, uint32_t(s));
  if (!sa.Crypt(role, pkt + 8, pkt, pkt + kEspPayload, payloadLen, pkt + kEspPayload + payloadLen)) return 0;
  Inc(sa.packets);
  Inc(sa.bytes, innerLen);
  return kEspPayload + payloadLen + kIcv;
}

enum OpenResult { kOpenOk = 0, kOpenMalformed, kOpenReplay, kOpenAuth, kOpenDummy };
const char* OpenResultName(int r) {
  switch (r) {
    case kOpenOk: return "ok";
    case kOpenMalformed: return "malformed";
    case kOpenReplay: return "replay";
    case kOpenAuth: return "auth-failed";
    case kOpenDummy: return "dummy";
    default: return "?";
  }
}

// Opens an ESP packet of a known inbound SA in place; on success the inner packet is
// pkt[16, 16 + *innerLen). Order as espOpen: lengths, replay check, ICV, replay commit,
// padding, next header, inner version.
int OpenInPlace(Sa& sa, int role, uint8_t* pkt, size_t len, size_t* innerLen) {
  if (len < kEspPayload + 4 + kIcv) return kOpenMalformed;
  size_t payloadLen = len - kEspPayload - kIcv;
  if (payloadLen % 4 != 0) return kOpenMalformed;
  uint32_t s = Rd32(pkt + 4);
  if (!sa.ReplayCheck(s)) {
    Inc(sa.dropReplay);
    return kOpenReplay;
  }
  if (!sa.Crypt(role, pkt + 8, pkt, pkt + kEspPayload, payloadLen, pkt + kEspPayload + payloadLen)) {
    Inc(sa.dropAuth);
    return kOpenAuth;
  }
  if (!sa.ReplayCommit(s)) {
    Inc(sa.dropReplay);
    return kOpenReplay;
  }
  const uint8_t* end = pkt + kEspPayload + payloadLen;
  uint8_t pad = end[-2], nh = end[-1];
  if (size_t(pad) + 2 > payloadLen) return kOpenMalformed;
  size_t inner = payloadLen - 2 - pad;
  for (size_t i = 0; i < pad; i++)
    if (pkt[kEspPayload + inner + i] != i + 1) return kOpenMalformed;
  if (nh == 59) return kOpenDummy;
  if (nh != 4 && nh != 41) return kOpenMalformed;
  uint8_t v = inner > 0 ? pkt[kEspPayload] >> 4 : 0;
  if (nh == 4 ? (v != 4 || inner < 20) : (v != 6 || inner < 40)) return kOpenMalformed;
  Inc(sa.packets);
  Inc(sa.bytes, inner);
  *innerLen = inner;
  return kOpenOk;
}

// ---- flows -----------------------------------------------------------------------------

struct FlowKey {
  uint32_t ingress;  // 0 = the TUN, else a tunnel id
  uint8_t version;
  uint8_t proto;
  uint16_t sport;
  uint16_t dport;
  uint16_t pad;
  uint8_t src[16];
  uint8_t dst[16];
  bool operator==(const FlowKey& o) const { return memcmp(this, &o, sizeof *this) == 0; }
};
struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&k);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof k; i++) h = (h ^ p[i]) * 1099511628211ull;
    return size_t(h);
  }
};

struct FlowEntry {
  uint32_t id = 0;
  FlowKey key;
  int action = kActTun;
  uint32_t tunnel = 0;
  uint32_t mtu = 0;
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> lastSeen{0};
};

struct Parsed {
  FlowKey key;
  size_t ttlOffset;
};

// Builds the flow key of an IP packet; false when the packet is not for the fast path
// (fragments, IPv6 extension headers, ICMP other than echo, other protocols, TCP SYN/FIN/RST,
// TTL <= 1).
bool ParseFlow(const uint8_t* p, size_t n, uint32_t ingress, bool checkTtl, Parsed& out) {
  memset(&out.key, 0, sizeof out.key);
  out.key.ingress = ingress;
  if (n < 20) return false;
  uint8_t v = p[0] >> 4;
  size_t l4;
  uint8_t proto;
  if (v == 4) {
    size_t ihl = size_t(p[0] & 15) * 4;
    if (ihl < 20 || ihl > n) return false;
    if ((size_t(p[2]) << 8 | p[3]) != n) return false;
    if ((p[6] & 0x20) != 0 || ((p[6] & 0x1f) | p[7]) != 0) return false;  // MF or an offset
    if (checkTtl && p[8] <= 1) return false;
    proto = p[9];
    memcpy(out.key.src, p + 12, 4);
    memcpy(out.key.dst, p + 16, 4);
    out.ttlOffset = 8;
    l4 = ihl;
  } else if (v == 6) {
    if (n < 40 || (size_t(p[4]) << 8 | p[5]) + 40 != n) return false;
    if (checkTtl && p[7] <= 1) return false;
    proto = p[6];
    memcpy(out.key.src, p + 8, 16);
    memcpy(out.key.dst, p + 24, 16);
    out.ttlOffset = 7;
    l4 = 40;
  } else {
    return false;
  }
  out.key.version = v;
  out.key.proto = proto;
  if (proto == 6) {
    if (n < l4 + 20) return false;
    if ((p[l4 + 13] & 0x07) != 0) return false;  // FIN, SYN, RST: the JavaScript path sees them
  } else if (proto == 17) {
    if (n < l4 + 8) return false;
  } else if ((proto == 1 && v == 4) || (proto == 58 && v == 6)) {
    // ICMP echo request and reply only (keyed by type and identifier, as the flow table keys
    // them by identifier); ICMP errors and everything else stay with JavaScript.
    if (n < l4 + 8 || p[l4 + 1] != 0) return false;
    uint8_t type = p[l4];
    bool echo = v == 4 ? (type == 8 || type == 0) : (type == 128 || type == 129);
    if (!echo) return false;
    out.key.sport = type;
    out.key.dport = uint16_t(p[l4 + 4] << 8 | p[l4 + 5]);
    return true;
  } else {
    return false;
  }
  out.key.sport = uint16_t(p[l4] << 8 | p[l4 + 1]);
  out.key.dport = uint16_t(p[l4 + 2] << 8 | p[l4 + 3]);
  return true;
}

void DecrementTtl(uint8_t* p, size_t ttlOffset) {
  if ((p[0] >> 4) == 6) {
    p[7]--;
    return;
  }
  // RFC 1624 eqn. 3 on the 16-bit word TTL || protocol.
  uint16_t oldw = uint16_t(p[8] << 8 | p[9]);
  p[8]--;
  uint16_t neww = uint16_t(p[8] << 8 | p[9]);
  uint32_t sum = uint32_t(~(uint16_t(p[10] << 8 | p[11])) & 0xffff) + (~oldw & 0xffff) + neww;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  uint16_t cs = uint16_t(~sum);
  p[10] = cs >> 8;
  p[11] = cs & 0xff;
}

// ---- punts -----------------------------------------------------------------------------

constexpr int kMetaWords = 10;  // kind, offset, length, tag, port, family, addr[4]

struct PuntBatch {
  std::vector<uint8_t> data;
  std::vector<uint32_t> meta;
  uint32_t count = 0;
  void Add(int kind, const uint8_t* p, size_t len, uint32_t tag, const struct sockaddr_storage* from) {
    uint32_t off = uint32_t(data.size());
    data.insert(data.end(), p, p + len);
    uint32_t m[kMetaWords] = {uint32_t(kind), off, uint32_t(len), tag, 0, 0, 0, 0, 0, 0};
    if (from != nullptr) {
      if (from->ss_family == AF_INET) {
        auto* a = reinterpret_cast<const struct sockaddr_in*>(from);
        m[4] = ntohs(a->sin_port);
        m[5] = 4;
        memcpy(&m[6], &a->sin_addr, 4);
      } else if (from->ss_family == AF_INET6) {
        auto* a = reinterpret_cast<const struct sockaddr_in6*>(from);
        m[4] = ntohs(a->sin6_port);
        m[5] = 6;
        memcpy(&m[6], &a->sin6_addr, 16);
      }
    }
    meta.insert(meta.end(), m, m + kMetaWords);
    count++;
  }
};

class FastPath;
void CallPunt(Napi::Env env, Napi::Function fn, FastPath* ctx, PuntBatch* batch);
using PuntTsfn = Napi::TypedThreadSafeFunction<FastPath, PuntBatch, CallPunt>;

// ---- the fast path object ----------------------------------------------------------------

class FastPath : public Napi::ObjectWrap<FastPath> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FastPath",
                       {
                           InstanceAccessor<&FastPath::GetPort>("port"),
                           InstanceAccessor<&FastPath::GetFamily>("family"),
                           InstanceMethod<&FastPath::AttachTun>("attachTun"),
                           InstanceMethod<&FastPath::Start>("start"),
                           InstanceMethod<&FastPath::Stop>("stop"),
                           InstanceMethod<&FastPath::AddSa>("addSa"),
                           InstanceMethod<&FastPath::RemoveSa>("removeSa"),
                           InstanceMethod<&FastPath::SetTunnel>("setTunnel"),
                           InstanceMethod<&FastPath::SetPeer>("setPeer"),
                           InstanceMethod<&FastPath::Offload>("offload"),
                           InstanceMethod<&FastPath::RemoveFlow>("removeFlow"),
                           InstanceMethod<&FastPath::ClearFlows>("clearFlows"),
                           InstanceMethod<&FastPath::FlowStats>("flowStats"),
                           InstanceMethod<&FastPath::SaStats>("saStats"),
                           InstanceMethod<&FastPath::Stats>("stats"),
                           InstanceMethod<&FastPath::SendUdp>("sendUdp"),
                           InstanceMethod<&FastPath::SealSend>("sealSend"),
                           InstanceMethod<&FastPath::SealPacket>("sealPacket"),
                           InstanceMethod<&FastPath::OpenPacket>("openPacket"),
                           InstanceMethod<&FastPath::ReceiveDatagram>("receiveDatagram"),
                           StaticMethod<&FastPath::AeadVector>("aead"),
                       });
  }

  // new FastPath(address: string, port: number, bufferBytes: number)
  explicit FastPath(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FastPath>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber()) {
      Napi::TypeError::New(env, "FastPath(address, port, bufferBytes)").ThrowAsJavaScriptException();
      return;
    }
    std::string addr = info[0].As<Napi::String>().Utf8Value();
    int port = info[1].As<Napi::Number>().Int32Value();
    int buf = info[2].As<Napi::Number>().Int32Value();
    struct sockaddr_storage ss;
    socklen_t len = 0;
    memset(&ss, 0, sizeof ss);
    auto* a4 = reinterpret_cast<struct sockaddr_in*>(&ss);
    auto* a6 = reinterpret_cast<struct sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, addr.c_str(), &a4->sin_addr) == 1) {
      a4->sin_family = AF_INET;
      a4->sin_port = htons(uint16_t(port));
      len = sizeof *a4;
      family_ = AF_INET;
    } else if (inet_pton(AF_INET6, addr.c_str(), &a6->sin6_addr) == 1) {
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(uint16_t(port));
      len = sizeof *a6;
      family_ = AF_INET6;
    } else {
      Napi::TypeError::New(env, "FastPath: bind address is not an IP address").ThrowAsJavaScriptException();
      return;
    }
    int fd = socket(family_, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ThrowErrno(env, "socket");
      return;
    }
    if (family_ == AF_INET6) {
      int off = 0;
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    // Bigger buffers absorb bursts; as root the limits of net.core.*mem_max do not apply.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (bind(fd, reinterpret_cast<struct sockaddr*>(&ss), len) != 0) {
      int err = errno;
      ::close(fd);
      errno = err;
      ThrowErrno(env, "bind");
      return;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, reinterpret_cast<struct sockaddr*>(&bound), &blen);
    port_ = bound.ss_family == AF_INET ? ntohs(reinterpret_cast<struct sockaddr_in*>(&bound)->sin_port)
                                       : ntohs(reinterpret_cast<struct sockaddr_in6*>(&bound)->sin6_port);
    udp_ = fd;
    stopFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    jsBuf_.resize(kSlot);
  }

  ~FastPath() override {
    Shutdown();
    if (udp_ >= 0) ::close(udp_);
    if (stopFd_ >= 0) ::close(stopFd_);
  }

 private:
  void ThrowErrno(Napi::Env env, const char* what) {
    int err = errno;
    Napi::Error e = Napi::Error::New(env, std::string("fast path: ") + what + ": " + strerror(err));
    e.Set("errno", Napi::Number::New(env, err));
    e.ThrowAsJavaScriptException();
  }

  Napi::Value GetPort(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), port_); }
  Napi::Value GetFamily(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), family_ == AF_INET ? 4 : 6); }

  // attachTun(fd, mtu): the TUN device the fast path reads and writes (owned by TunDevice).
  Napi::Value AttachTun(const Napi::CallbackInfo& info) {
    if (running_) {
      Napi::TypeError::New(info.Env(), "FastPath.attachTun: already started").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    tun_ = info[0].As<Napi::Number>().Int32Value();
    tunMtu_ = info[1].As<Napi::Number>().Uint32Value();
    return info.Env().Undefined();
  }

  // start(onPunt: (data: Buffer, meta: Uint32Array, count: number) => void)
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (running_ || udp_ < 0) return env.Undefined();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env, "FastPath.start(onPunt)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    tsfn_ = PuntTsfn::New(env, info[0].As<Napi::Function>(), "meshgate-fastpath", 0, 1, this);
    tsfn_.Unref(env);
    stopping_ = false;
    running_ = true;
    Ref();
    rx_ = std::thread([this] { RxLoop(); });
    if (tun_ >= 0) tx_ = std::thread([this] { TxLoop(); });
    return env.Undefined();
  }

  void Shutdown() {
    if (!running_) return;
    stopping_ = true;
    uint64_t one = 1;
    if (write(stopFd_, &one, sizeof one) < 0) {
    }
    if (rx_.joinable()) rx_.join();
    if (tx_.joinable()) tx_.join();
    running_ = false;
    tsfn_.Release();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    bool was = running_;
    Shutdown();
    if (was) Unref();
    if (udp_ >= 0) ::close(udp_);
    udp_ = -1;
    return info.Env().Undefined();
  }

  // addSa(inbound, spi, suite, keymat, tunnel, peerAddress, peerPort, windowSize)
  Napi::Value AddSa(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool inbound = info[0].ToBoolean().Value();
    uint32_t spi = info[1].As<Napi::Number>().Uint32Value();
    int suite = info[2].As<Napi::Number>().Int32Value();
    Napi::Uint8Array km = info[3].As<Napi::Uint8Array>();
    uint32_t tunnel = info[4].As<Napi::Number>().Uint32Value();
    auto sa = std::make_shared<Sa>();
    sa->spi = spi;
    sa->inbound = inbound;
    sa->tunnel = tunnel;
    if (!sa->Init(suite, km.Data(), km.ByteLength(), !inbound)) {
      Napi::Error::New(env, "fast path: cannot set up the cipher for this SA").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (inbound) {
      uint32_t w = info.Length() > 7 && info[7].IsNumber() ? info[7].As<Napi::Number>().Uint32Value() : 2048;
      sa->InitWindow(w < 32 ? 32 : w);
    } else {
      std::string addr = info[5].As<Napi::String>().Utf8Value();
      int port = info[6].As<Napi::Number>().Int32Value();
      if (!ToSockaddr(addr, port, &sa->peer, &sa->peerLen)) {
        Napi::TypeError::New(env, "fast path: peer address is not an IP address").ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
    std::unique_lock<std::shared_mutex> g(mu_);
    (inbound ? in_ : out_)[spi] = sa;
    return env.Undefined();
  }

  // removeSa(inbound, spi)
  Napi::Value RemoveSa(const Napi::CallbackInfo& info) {
    bool inbound = info[0].ToBoolean().Value();
    uint32_t spi = info[1].As<Napi::Number>().Uint32Value();
    std::unique_lock<std::shared_mutex> g(mu_);
    auto& m = inbound ? in_ : out_;
    auto it = m.find(spi);
    if (it != m.end()) {
      if (!inbound) {
        for (auto& t : tunnels_)
          if (t.second == it->second) t.second.reset();
      }
      m.erase(it);
    }
    return info.Env().Undefined();
  }

  // setPeer(spi, address, port): where an outbound SA's packets go (NAT rebinding). False
  // when the SA is unknown or the address unusable.
  Napi::Value SetPeer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t spi = info[0].As<Napi::Number>().Uint32Value();
    struct sockaddr_storage ss;
    socklen_t len;
    if (!ToSockaddr(info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Number>().Int32Value(), &ss, &len))
      return Napi::Boolean::New(env, false);
    std::unique_lock<std::shared_mutex> g(mu_);
    auto it = out_.find(spi);
    if (it == out_.end()) return Napi::Boolean::New(env, false);
    it->second->peer = ss;
    it->second->peerLen = len;
    return Napi::Boolean::New(env, true);
  }

  // setTunnel(tunnel, outboundSpi): the SA that carries the tunnel's offloaded flows (0: none).
  Napi::Value SetTunnel(const Napi::CallbackInfo& info) {
    uint32_t tunnel = info[0].As<Napi::Number>().Uint32Value();
    uint32_t spi = info[1].As<Napi::Number>().Uint32Value();
    std::unique_lock<std::shared_mutex> g(mu_);
    auto it = out_.find(spi);
    if (spi == 0 || it == out_.end())
      tunnels_.erase(tunnel);
    else
      tunnels_[tunnel] = it->second;
    return info.Env().Undefined();
  }

  // offload(ingress, data, offset, length, action, tunnel, mtu): the flow of this packet
  // (as forwarded: TTL already decremented) from `ingress` (0 TUN, else tunnel id) goes to
  // the TUN (action 1) or into `tunnel` (action 2). Returns the flow id, or 0 when the
  // packet is not eligible or the table is full.
  Napi::Value Offload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t ingress = info[0].As<Napi::Number>().Uint32Value();
    Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
    int64_t off = info[2].As<Napi::Number>().Int64Value();
    int64_t len = info[3].As<Napi::Number>().Int64Value();
    int action = info[4].As<Napi::Number>().Int32Value();
    uint32_t tunnel = info[5].As<Napi::Number>().Uint32Value();
    uint32_t mtu = info[6].As<Napi::Number>().Uint32Value();
    if (off < 0 || len < 0 || size_t(off + len) > data.ByteLength()) return Napi::Number::New(env, 0);
    Parsed p;
    if (!ParseFlow(data.Data() + off, size_t(len), ingress, false, p)) return Napi::Number::New(env, 0);
    std::unique_lock<std::shared_mutex> g(mu_);
    auto it = flows_.find(p.key);
    if (it != flows_.end()) {
      it->second->action = action;
      it->second->tunnel = tunnel;
      it->second->mtu = mtu;
      return Napi::Number::New(env, it->second->id);
    }
    if (flows_.size() >= maxFlows_) return Napi::Number::New(env, 0);
    auto e = std::make_unique<FlowEntry>();
    e->id = nextFlowId_++;
    if (nextFlowId_ == 0) nextFlowId_ = 1;
    e->key = p.key;
    e->action = action;
    e->tunnel = tunnel;
    e->mtu = mtu;
    e->lastSeen = NowMs();
    uint32_t id = e->id;
    byId_[id] = e.get();
    flows_[p.key] = std::move(e);
    return Napi::Number::New(env, id);
  }

  Napi::Value RemoveFlow(const Napi::CallbackInfo& info) {
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    std::unique_lock<std::shared_mutex> g(mu_);
    auto it = byId_.find(id);
    if (it != byId_.end()) {
      FlowKey k = it->second->key;
      byId_.erase(it);
      flows_.erase(k);
    }
    return info.Env().Undefined();
  }

  Napi::Value ClearFlows(const Napi::CallbackInfo& info) {
    std::unique_lock<std::shared_mutex> g(mu_);
    size_t n = flows_.size();
    byId_.clear();
    flows_.clear();
    return Napi::Number::New(info.Env(), double(n));
  }

  // flowStats(out: Float64Array): [id, packets, bytes, idleMs] per flow; returns the count.
  Napi::Value FlowStats(const Napi::CallbackInfo& info) {
    Napi::Float64Array out = info[0].As<Napi::Float64Array>();
    size_t cap = out.ElementLength() / 4, n = 0;
    int64_t now = NowMs();
    std::shared_lock<std::shared_mutex> g(mu_);
    for (auto& kv : byId_) {
      if (n >= cap) break;
      double* o = out.Data() + n * 4;
      o[0] = kv.first;
      o[1] = double(kv.second->packets.load(std::memory_order_relaxed));
      o[2] = double(kv.second->bytes.load(std::memory_order_relaxed));
      o[3] = double(now - kv.second->lastSeen.load(std::memory_order_relaxed));
      n++;
    }
    return Napi::Number::New(info.Env(), double(n));
  }

  // saStats(inbound, spi): [packets, bytes, seq-or-top, replayDrops, authDrops] or undefined
  Napi::Value SaStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool inbound = info[0].ToBoolean().Value();
    uint32_t spi = info[1].As<Napi::Number>().Uint32Value();
    std::shared_ptr<Sa> sa;
    {
      std::shared_lock<std::shared_mutex> g(mu_);
      auto& m = inbound ? in_ : out_;
      auto it = m.find(spi);
      if (it == m.end()) return env.Undefined();
      sa = it->second;
    }
    Napi::Float64Array r = Napi::Float64Array::New(env, 5);
    r[0] = double(sa->packets.load());
    r[1] = double(sa->bytes.load());
    if (inbound) {
      std::lock_guard<std::mutex> g(sa->replayMu);
      r[2] = sa->top;
    } else {
      r[2] = double(sa->seq.load());
    }
    r[3] = double(sa->dropReplay.load());
    r[4] = double(sa->dropAuth.load());
    return r;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
#define FP_SET(n) o.Set(#n, Napi::Number::New(env, double(counters_.n.load(std::memory_order_relaxed))));
    FP_COUNTERS(FP_SET)
#undef FP_SET
    {
      std::shared_lock<std::shared_mutex> g(mu_);
      o.Set("flows", Napi::Number::New(env, double(flows_.size())));
      o.Set("inboundSas", Napi::Number::New(env, double(in_.size())));
      o.Set("outboundSas", Napi::Number::New(env, double(out_.size())));
    }
    o.Set("running", Napi::Boolean::New(env, running_));
    o.Set("pendingPunts", Napi::Number::New(env, double(pendingPunts_.load())));
    return o;
  }

  bool ToSockaddr(const std::string& addr, int port, struct sockaddr_storage* ss, socklen_t* len) {
    memset(ss, 0, sizeof *ss);
    auto* a4 = reinterpret_cast<struct sockaddr_in*>(ss);
    auto* a6 = reinterpret_cast<struct sockaddr_in6*>(ss);
    struct in_addr v4;
    if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) {
      if (family_ == AF_INET) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(uint16_t(port));
        a4->sin_addr = v4;
        *len = sizeof *a4;
      } else {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(uint16_t(port));
        a6->sin6_addr.s6_addr[10] = 0xff;
        a6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&a6->sin6_addr.s6_addr[12], &v4, 4);
        *len = sizeof *a6;
      }
      return true;
    }
    if (family_ == AF_INET6 && inet_pton(AF_INET6, addr.c_str(), &a6->sin6_addr) == 1) {
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(uint16_t(port));
      *len = sizeof *a6;
      return true;
    }
    return false;
  }

  // sendUdp(payload, address, port): one datagram from the JavaScript thread (IKE,
  // keepalives). Returns false when it could not be handed to the kernel.
  Napi::Value SendUdp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (udp_ < 0) return Napi::Boolean::New(env, false);
    Napi::Uint8Array p = info[0].As<Napi::Uint8Array>();
    struct sockaddr_storage ss;
    socklen_t len;
    if (!ToSockaddr(info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Number>().Int32Value(), &ss, &len))
      return Napi::Boolean::New(env, false);
    ssize_t n = sendto(udp_, p.Data(), p.ByteLength(), MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&ss), len);
    if (n < 0) {
      Inc(counters_.udpTxErrors);
      return Napi::Boolean::New(env, false);
    }
    Inc(counters_.udpTxPackets);
    return Napi::Boolean::New(env, true);
  }

  // Seals data[off, off+len) with outbound SA spi into jsBuf_; returns the ESP length or 0.
  size_t SealFromJs(uint32_t spi, const uint8_t* data, size_t len, std::shared_ptr<Sa>* saOut) {
    if (len < 20 || len > kMaxInner) return 0;
    uint8_t v = data[0] >> 4;
    if (v != 4 && v != 6) return 0;
    if (v == 6 && len < 40) return 0;
    std::shared_ptr<Sa> sa;
    {
      std::shared_lock<std::shared_mutex> g(mu_);
      auto it = out_.find(spi);
      if (it == out_.end()) return 0;
      sa = it->second;
    }
    memcpy(jsBuf_.data() + kEspPayload, data, len);
    size_t n = SealInPlace(*sa, kRoleJs, jsBuf_.data(), len, counters_);
    if (n > 0) {
      Inc(counters_.espTxPackets);
      Inc(counters_.espTxBytes, len);
    }
    *saOut = sa;
    return n;
  }

  // sealSend(spi, data, offset, length): the JavaScript path's ESP send (first packets of a
  // flow, ICMP, ...) with the same SA state as the threads. Returns false when dropped.
  Napi::Value SealSend(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t spi = info[0].As<Napi::Number>().Uint32Value();
    Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
    int64_t off = info[2].As<Napi::Number>().Int64Value();
    int64_t len = info[3].As<Napi::Number>().Int64Value();
    if (udp_ < 0 || off < 0 || len < 0 || size_t(off + len) > data.ByteLength()) return Napi::Boolean::New(env, false);
    std::shared_ptr<Sa> sa;
    size_t n = SealFromJs(spi, data.Data() + off, size_t(len), &sa);
    if (n == 0) return Napi::Boolean::New(env, false);
    ssize_t r = sendto(udp_, jsBuf_.data(), n, MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&sa->peer), sa->peerLen);
    if (r < 0) {
      Inc(counters_.udpTxErrors);
      return Napi::Boolean::New(env, false);
    }
    Inc(counters_.udpTxPackets);
    return Napi::Boolean::New(env, true);
  }

  // sealPacket(spi, inner): the ESP packet the fast path would send (tests).
  Napi::Value SealPacket(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
    std::shared_ptr<Sa> sa;
    size_t n = SealFromJs(info[0].As<Napi::Number>().Uint32Value(), data.Data(), data.ByteLength(), &sa);
    if (n == 0) return env.Null();
    return Napi::Buffer<uint8_t>::Copy(env, jsBuf_.data(), n);
  }

  // openPacket(packet): runs the fast path's ESP receive checks on a copy of `packet` and
  // returns { result, spi, inner? } (tests; counted like received packets).
  Napi::Value OpenPacket(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    size_t len = data.ByteLength();
    Napi::Object o = Napi::Object::New(env);
    if (len > kSlot) len = kSlot;
    memcpy(jsBuf_.data(), data.Data(), len);
    uint8_t* pkt = jsBuf_.data();
    if (len < 8 || Rd32(pkt) == 0) {
      o.Set("result", "not-esp");
      return o;
    }
    uint32_t spi = Rd32(pkt);
    o.Set("spi", Napi::Number::New(env, spi));
    std::shared_ptr<Sa> sa;
    {
      std::shared_lock<std::shared_mutex> g(mu_);
      auto it = in_.find(spi);
      if (it != in_.end()) sa = it->second;
    }
    if (!sa) {
      o.Set("result", "unknown-spi");
      return o;
    }
    size_t inner = 0;
    int r = OpenInPlace(*sa, kRoleJs, pkt, len, &inner);
    CountOpen(r, inner);
    o.Set("result", OpenResultName(r));
    if (r == kOpenOk) o.Set("inner", Napi::Buffer<uint8_t>::Copy(env, pkt + kEspPayload, inner));
    return o;
  }

  // receiveDatagram(datagram, fromAddress, fromPort): one datagram through the receive
  // path as if it came off the socket, on the JavaScript thread (tests): what it punts is
  // returned as [{ kind, tag, data }]; offloaded packets go to the TUN as usual.
  Napi::Value ReceiveDatagram(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    size_t len = data.ByteLength();
    if (len > kSlot) len = kSlot;
    memcpy(jsBuf_.data(), data.Data(), len);
    struct sockaddr_storage from;
    socklen_t flen;
    if (!ToSockaddr(info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Number>().Int32Value(), &from, &flen))
      return Napi::Number::New(env, 0);
    PuntBatch punts;
    nowMs_ = NowMs();
    {
      std::shared_lock<std::shared_mutex> g(mu_);
      HandleDatagram(kRoleJs, jsBuf_.data(), len, from, punts, nullptr);
    }
    Napi::Array out = Napi::Array::New(env, punts.count);
    for (uint32_t i = 0; i < punts.count; i++) {
      const uint32_t* m = punts.meta.data() + size_t(i) * kMetaWords;
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", Napi::Number::New(env, m[0]));
      o.Set("tag", Napi::Number::New(env, m[3]));
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, punts.data.data() + m[1], m[2]));
      out[i] = o;
    }
    return out;
  }

  // FastPath.aead(encrypt, suite, keyMaterial, iv8, aad, data): the SA cipher on its own
  // (known-answer tests): ciphertext || tag, or the plaintext, or null when the tag fails.
  static Napi::Value AeadVector(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool encrypt = info[0].ToBoolean().Value();
    int suite = info[1].As<Napi::Number>().Int32Value();
    Napi::Uint8Array km = info[2].As<Napi::Uint8Array>();
    Napi::Uint8Array iv = info[3].As<Napi::Uint8Array>();
    Napi::Uint8Array aad = info[4].As<Napi::Uint8Array>();
    Napi::Uint8Array data = info[5].As<Napi::Uint8Array>();
    if (iv.ByteLength() != 8 || (!encrypt && data.ByteLength() < kIcv)) return env.Null();
    Sa sa;
    sa.inbound = !encrypt;
    if (!sa.Init(suite, km.Data(), km.ByteLength(), encrypt)) return env.Null();
    std::vector<uint8_t> buf(data.Data(), data.Data() + data.ByteLength());
    size_t len = encrypt ? buf.size() : buf.size() - kIcv;
    buf.resize(len + kIcv);
    if (!sa.Crypt(kRoleJs, iv.Data(), aad.Data(), buf.data(), len, buf.data() + len, int(aad.ByteLength()))) return env.Null();
    return Napi::Buffer<uint8_t>::Copy(env, buf.data(), encrypt ? len + kIcv : len);
  }

  void CountOpen(int r, size_t inner) {
    switch (r) {
      case kOpenOk:
        Inc(counters_.espRxPackets);
        Inc(counters_.espRxBytes, inner);
        break;
      case kOpenReplay: Inc(counters_.dropReplay); break;
      case kOpenAuth: Inc(counters_.dropAuthFailed); break;
      case kOpenDummy: Inc(counters_.dropDummy); break;
      default: Inc(counters_.dropMalformed); break;
    }
  }

  // ---- data threads (the shared lock is held by the caller) ----------------------------

  struct SendBatch {
    struct mmsghdr msgs[kBatch];
    struct iovec iov[kBatch];
    int n = 0;
  };

  void Queue(SendBatch& sb, uint8_t* p, size_t len, Sa& sa) {
    sb.iov[sb.n].iov_base = p;
    sb.iov[sb.n].iov_len = len;
    memset(&sb.msgs[sb.n].msg_hdr, 0, sizeof sb.msgs[sb.n].msg_hdr);
    sb.msgs[sb.n].msg_hdr.msg_iov = &sb.iov[sb.n];
    sb.msgs[sb.n].msg_hdr.msg_iovlen = 1;
    sb.msgs[sb.n].msg_hdr.msg_name = &sa.peer;
    sb.msgs[sb.n].msg_hdr.msg_namelen = sa.peerLen;
    sb.n++;
  }

  void Flush(SendBatch& sb) {
    int done = 0, tries = 0;
    while (done < sb.n && tries++ < 64) {
      int r = sendmmsg(udp_, sb.msgs + done, unsigned(sb.n - done), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == ENOBUFS) {
          struct pollfd pfd = {udp_, POLLOUT, 0};
          poll(&pfd, 1, 10);
          continue;
        }
        // this datagram cannot be sent (e.g. unreachable): count it and go on with the rest
        Inc(counters_.udpTxErrors);
        done++;
        continue;
      }
      done += r;
    }
    if (done < sb.n) Inc(counters_.udpTxErrors, uint64_t(sb.n - done));
    Inc(counters_.udpTxPackets, uint64_t(done));
    Inc(counters_.udpTxBatches);
    sb.n = 0;
  }

  void WriteTun(const uint8_t* p, size_t len) {
    ssize_t n;
    do {
      n = ::write(tun_, p, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
      Inc(counters_.tunTxErrors);
    else
      Inc(counters_.tunTxPackets);
  }

  // One UDP datagram in buf[0, len) (a slot of kSlot bytes).
  void HandleDatagram(int role, uint8_t* buf, size_t len, const struct sockaddr_storage& from, PuntBatch& punts, SendBatch* sb) {
    if (len < 8 || Rd32(buf) == 0) return Punt(punts, kPuntUdp, buf, len, 0, &from);
    uint32_t spi = Rd32(buf);
    auto it = in_.find(spi);
    if (it == in_.end()) return Punt(punts, kPuntUdp, buf, len, 0, &from);
    Sa& sa = *it->second;
    size_t inner = 0;
    int r = OpenInPlace(sa, role, buf, len, &inner);
    CountOpen(r, inner);
    if (r != kOpenOk) return;
    uint8_t* ip = buf + kEspPayload;
    Parsed p;
    if (!ParseFlow(ip, inner, sa.tunnel, true, p)) return Punt(punts, kPuntDecrypted, ip, inner, spi, nullptr);
    auto f = flows_.find(p.key);
    if (f == flows_.end()) return Punt(punts, kPuntDecrypted, ip, inner, spi, nullptr);
    FlowEntry& fe = *f->second;
    if (inner > fe.mtu) return Punt(punts, kPuntDecrypted, ip, inner, spi, nullptr);
    if (fe.action == kActTun) {
      if (tun_ < 0) return Punt(punts, kPuntDecrypted, ip, inner, spi, nullptr);
      DecrementTtl(ip, p.ttlOffset);
      WriteTun(ip, inner);
    } else {
      auto t = tunnels_.find(fe.tunnel);
      if (t == tunnels_.end() || !t->second || sb == nullptr) return Punt(punts, kPuntDecrypted, ip, inner, spi, nullptr);
      DecrementTtl(ip, p.ttlOffset);
      size_t n = SealInPlace(*t->second, role, buf, inner, counters_);
      if (n == 0) return;
      Inc(counters_.espTxPackets);
      Inc(counters_.espTxBytes, inner);
      Inc(counters_.hairpin);
      Queue(*sb, buf, n, *t->second);
    }
    Inc(counters_.offloadedIn);
    Inc(fe.packets);
    Inc(fe.bytes, inner);
    fe.lastSeen.store(nowMs_, std::memory_order_relaxed);
  }

  void Punt(PuntBatch& punts, int kind, const uint8_t* p, size_t len, uint32_t tag, const struct sockaddr_storage* from) {
    if (pendingPunts_.load(std::memory_order_relaxed) + punts.count >= kMaxPendingPunts) {
      Inc(counters_.puntOverflow);
      return;
    }
    punts.Add(kind, p, len, tag, from);
    Inc(kind == kPuntUdp ? counters_.puntUdp : kind == kPuntDecrypted ? counters_.puntDecrypted : counters_.puntTun);
  }

  void FlushPunts(PuntBatch* punts) {
    if (punts->count == 0) {
      delete punts;
      return;
    }
    pendingPunts_.fetch_add(punts->count);
    if (tsfn_.NonBlockingCall(punts) != napi_ok) {
      pendingPunts_.fetch_sub(punts->count);
      Inc(counters_.puntOverflow, punts->count);
      delete punts;
    }
  }

 public:
  void PuntDelivered(uint32_t n) { pendingPunts_.fetch_sub(n); }

 private:
  bool WaitReadable(int fd) {
    struct pollfd pfd[2] = {{fd, POLLIN, 0}, {stopFd_, POLLIN, 0}};
    for (;;) {
      if (stopping_) return false;
      int r = poll(pfd, 2, 500);
      if (r < 0 && errno != EINTR) return false;
      if (stopping_) return false;
      if (r > 0 && (pfd[0].revents & (POLLIN | POLLERR | POLLHUP))) return true;
    }
  }

  void RxLoop() {
    pthread_setname_np(pthread_self(), "mg-fastpath-rx");  // top -H, perf
    std::vector<uint8_t> slots(size_t(kBatch) * kSlot);
    struct mmsghdr msgs[kBatch];
    struct iovec iov[kBatch];
    struct sockaddr_storage from[kBatch];
    auto sb = std::make_unique<SendBatch>();
    while (WaitReadable(udp_)) {
      for (int round = 0; round < 16 && !stopping_; round++) {
        for (int i = 0; i < kBatch; i++) {
          iov[i].iov_base = slots.data() + size_t(i) * kSlot;
          iov[i].iov_len = kSlot - 64;
          memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
          msgs[i].msg_hdr.msg_name = &from[i];
          msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        }
        int n = recvmmsg(udp_, msgs, kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) break;
        Inc(counters_.udpRxPackets, uint64_t(n));
        Inc(counters_.udpRxBatches);
        nowMs_ = NowMs();
        auto* punts = new PuntBatch();
        {
          std::shared_lock<std::shared_mutex> g(mu_);
          for (int i = 0; i < n; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
              Inc(counters_.dropTooLong);
              continue;
            }
            HandleDatagram(kRoleRx, slots.data() + size_t(i) * kSlot, msgs[i].msg_len, from[i], *punts, sb.get());
          }
          if (sb->n > 0) Flush(*sb);
        }
        FlushPunts(punts);
        if (n < kBatch) break;
      }
    }
  }

  void TxLoop() {
    pthread_setname_np(pthread_self(), "mg-fastpath-tx");
    std::vector<uint8_t> slots(size_t(kBatch) * kSlot);
    size_t lens[kBatch];
    auto sb = std::make_unique<SendBatch>();
    while (WaitReadable(tun_)) {
      for (int round = 0; round < 16 && !stopping_; round++) {
        int n = 0;
        while (n < kBatch) {
          uint8_t* ip = slots.data() + size_t(n) * kSlot + kEspPayload;
          ssize_t r = ::read(tun_, ip, kMaxInner);
          if (r < 0) {
            if (errno == EINTR) continue;
            break;
          }
          if (r == 0) break;
          lens[n++] = size_t(r);
        }
        if (n == 0) break;
        Inc(counters_.tunRxPackets, uint64_t(n));
        Inc(counters_.tunRxBatches);
        int64_t now = NowMs();
        auto* punts = new PuntBatch();
        {
          std::shared_lock<std::shared_mutex> g(mu_);
          for (int i = 0; i < n; i++) {
            uint8_t* pkt = slots.data() + size_t(i) * kSlot;
            uint8_t* ip = pkt + kEspPayload;
            size_t len = lens[i];
            Parsed p;
            if (!ParseFlow(ip, len, 0, true, p)) {
              Punt(*punts, kPuntTun, ip, len, 0, nullptr);
              continue;
            }
            auto f = flows_.find(p.key);
            if (f == flows_.end() || f->second->action != kActTunnel || len > f->second->mtu) {
              Punt(*punts, kPuntTun, ip, len, 0, nullptr);
              continue;
            }
            FlowEntry& fe = *f->second;
            auto t = tunnels_.find(fe.tunnel);
            if (t == tunnels_.end() || !t->second) {
              Punt(*punts, kPuntTun, ip, len, 0, nullptr);
              continue;
            }
            DecrementTtl(ip, p.ttlOffset);
            size_t out = SealInPlace(*t->second, kRoleTx, pkt, len, counters_);
            if (out == 0) continue;
            Inc(counters_.espTxPackets);
            Inc(counters_.espTxBytes, len);
            Inc(counters_.offloadedOut);
            Inc(fe.packets);
            Inc(fe.bytes, len);
            fe.lastSeen.store(now, std::memory_order_relaxed);
            Queue(*sb, pkt, out, *t->second);
          }
          // sendmmsg under the shared lock: the SAs' peer addresses stay valid meanwhile
          if (sb->n > 0) Flush(*sb);
        }
        FlushPunts(punts);
        if (n < kBatch) break;
      }
    }
  }

  int udp_ = -1;
  int family_ = AF_INET6;
  int port_ = 0;
  int tun_ = -1;
  uint32_t tunMtu_ = 1500;
  int stopFd_ = -1;
  bool running_ = false;
  std::atomic<bool> stopping_{false};
  std::thread rx_;
  std::thread tx_;
  PuntTsfn tsfn_;
  std::atomic<uint32_t> pendingPunts_{0};
  int64_t nowMs_ = 0;
  std::vector<uint8_t> jsBuf_;
  Counters counters_;
  std::shared_mutex mu_;
  std::unordered_map<uint32_t, std::shared_ptr<Sa>> in_;
  std::unordered_map<uint32_t, std::shared_ptr<Sa>> out_;
  std::unordered_map<uint32_t, std::shared_ptr<Sa>> tunnels_;
  std::unordered_map<FlowKey, std::unique_ptr<FlowEntry>, FlowKeyHash> flows_;
  std::unordered_map<uint32_t, FlowEntry*> byId_;
  uint32_t nextFlowId_ = 1;
  size_t maxFlows_ = 65536;
};

void CallPunt(Napi::Env env, Napi::Function fn, FastPath* ctx, PuntBatch* batch) {
  uint32_t count = batch->count;
  if (env != nullptr && fn != nullptr) {
    Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::Copy(env, batch->data.data(), batch->data.size());
    Napi::Uint32Array meta = Napi::Uint32Array::New(env, batch->meta.size());
    memcpy(meta.Data(), batch->meta.data(), batch->meta.size() * sizeof(uint32_t));
    fn.Call({data, meta, Napi::Number::New(env, count)});
  }
  if (ctx != nullptr) ctx->PuntDelivered(count);
  delete batch;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("FastPath", FastPath::Define(env));
  exports.Set("META_WORDS", Napi::Number::New(env, kMetaWords));
  exports.Set("OPENSSL_VERSION", Napi::String::New(env, OpenSSL_version(OPENSSL_VERSION)));
  return exports;
}

}  // namespace

NODE_API_MODULE(meshgate_fastpath, Init)
