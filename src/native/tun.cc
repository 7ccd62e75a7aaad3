// meshgate TUN addon: a Linux TUN device (IFF_TUN | IFF_NO_PI) with batched, non-blocking
// reads on the main event loop.
//
// Receive path: the fd is watched with a libuv uv_poll_t on Node's own loop. When it is
// readable, up to `maxPackets` packets are read (until EAGAIN) into one caller-supplied
// buffer, slot i starting at i * slotSize + headroom, their lengths into a caller-supplied
// Uint32Array, and then ONE JavaScript callback is made with the count. Nothing is
// allocated per packet or per batch; no thread-pool round trip. The callback must finish
// with the slots before it returns: the next batch overwrites them.
//
// Send path: write(packet) writes straight to the non-blocking fd and returns the byte count
// or -errno (EAGAIN when the device queue is full); the TypeScript wrapper counts it.
//
// Errors of open/configure carry a message saying what is missing, plus `code` (EPERM,
// ENOENT, ...), `errno` and `syscall` properties.

#include <napi.h>
#include <uv.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace {

const char* kTunPath = "/dev/net/tun";

const char* ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    default: return "EUNKNOWN";
  }
}

// Builds the Error thrown to JavaScript. The message names what is missing, not just errno.
Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall, const std::string& ifname) {
  std::string msg;
  const std::string dev = ifname.empty() ? std::string("TUN device") : ("TUN device " + ifname);
  switch (err) {
    case EPERM:
    case EACCES:
      msg = "cannot " + syscall + " " + dev + ": needs root or CAP_NET_ADMIN (" + strerror(err) + ")";
      break;
    case ENOENT:
      msg = std::string("cannot open ") + kTunPath + ": /dev/net/tun missing (create it with " +
            "'mknod /dev/net/tun c 10 200' or load the tun module)";
      break;
    case ENODEV:
    case ENXIO:
      msg = std::string("cannot open ") + kTunPath + ": /dev/net/tun missing its driver " +
            "(the tun kernel module is not loaded)";
      break;
    case EBUSY:
      msg = "cannot " + syscall + " " + dev + ": the name is in use by another device (" + strerror(err) + ")";
      break;
    default:
      msg = "cannot " + syscall + " " + dev + ": " + strerror(err);
      break;
  }
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Value ThrowErrno(Napi::Env env, int err, const std::string& syscall, const std::string& ifname) {
  ErrnoError(env, err, syscall, ifname).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

class Tun : public Napi::ObjectWrap<Tun> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Tun",
                       {
                           InstanceAccessor<&Tun::GetFd>("fd"),
                           InstanceAccessor<&Tun::GetName>("name"),
                           InstanceMethod<&Tun::SetMtu>("setMtu"),
                           InstanceMethod<&Tun::SetUp>("setUp"),
                           InstanceMethod<&Tun::SetTxQueueLen>("setTxQueueLen"),
                           InstanceMethod<&Tun::StartReading>("startReading"),
                           InstanceMethod<&Tun::StopReading>("stopReading"),
                           InstanceMethod<&Tun::Write>("write"),
                           InstanceMethod<&Tun::WriteAt>("writeAt"),
                           InstanceMethod<&Tun::Stats>("stats"),
                           InstanceMethod<&Tun::RefPoll>("ref"),
                           InstanceMethod<&Tun::UnrefPoll>("unref"),
                           InstanceMethod<&Tun::Close>("close"),
                       });
  }

  // new Tun(name: string) — opens /dev/net/tun and attaches (or creates) interface `name`.
  explicit Tun(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tun>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
      ThrowType(env, "Tun: name must be a string");
      return;
    }
    std::string requested = info[0].As<Napi::String>().Utf8Value();
    if (requested.size() >= IFNAMSIZ) {
      ThrowType(env, "Tun: interface name longer than 15 bytes");
      return;
    }
    int fd = open(kTunPath, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      ThrowErrno(env, errno, "open", requested);
      return;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    memcpy(ifr.ifr_name, requested.data(), requested.size());
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
      int err = errno;
      ::close(fd);
      ThrowErrno(env, err, "create", requested);
      return;
    }
    ifr.ifr_name[IFNAMSIZ - 1] = '\0';
    fd_ = fd;
    name_ = ifr.ifr_name;
    env_ = env;
    napi_add_env_cleanup_hook(env_, &Tun::OnEnvCleanup, this);
  }

  ~Tun() override {
    // Polling holds a reference to this object, so a Tun is finalised while polling only when
    // its environment is torn down; stop libuv from calling into freed memory then.
    CloseHandle();
    if (env_ != nullptr) napi_remove_env_cleanup_hook(env_, &Tun::OnEnvCleanup, this);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // The environment (a worker thread, or the process) is going away with the device open:
  // stop polling and close the fd; JavaScript references are not touched any more.
  static void OnEnvCleanup(void* arg) {
    Tun* self = static_cast<Tun*>(arg);
    self->CloseHandle();
    if (self->fd_ >= 0) ::close(self->fd_);
    self->fd_ = -1;
    self->env_ = nullptr;
  }

 private:
  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value GetName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }

  // Runs an SIOC* ioctl for this interface on a throwaway AF_INET socket. Returns 0 or errno.
  int IfIoctl(unsigned long req, struct ifreq* ifr) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return errno;
    memset(ifr->ifr_name, 0, IFNAMSIZ);
    memcpy(ifr->ifr_name, name_.data(), name_.size());
    int rc = ioctl(s, req, ifr);
    int err = rc < 0 ? errno : 0;
    ::close(s);
    return err;
  }

  // setMtu(mtu: number)
  Napi::Value SetMtu(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return ThrowType(env, "Tun: device is closed");
    if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "Tun.setMtu: mtu must be a number");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_mtu = info[0].As<Napi::Number>().Int32Value();
    int err = IfIoctl(SIOCSIFMTU, &ifr);
    if (err != 0) return ThrowErrno(env, err, "set the MTU of", name_);
    return env.Undefined();
  }

  // setTxQueueLen(n: number) — packets the kernel queues for us to read before it drops
  // (default 500 for a TUN; a reader that is descheduled for a few ms needs more).
  Napi::Value SetTxQueueLen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return ThrowType(env, "Tun: device is closed");
    if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "Tun.setTxQueueLen: length must be a number");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_qlen = info[0].As<Napi::Number>().Int32Value();
    int err = IfIoctl(SIOCSIFTXQLEN, &ifr);
    if (err != 0) return ThrowErrno(env, err, "set the queue length of", name_);
    return env.Undefined();
  }

  // setUp(up: boolean) — sets or clears IFF_UP.
  Napi::Value SetUp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return ThrowType(env, "Tun: device is closed");
    bool up = info.Length() < 1 || info[0].ToBoolean().Value();
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int err = IfIoctl(SIOCGIFFLAGS, &ifr);
    if (err != 0) return ThrowErrno(env, err, "read the flags of", name_);
    if (up)
      ifr.ifr_flags |= IFF_UP;
    else
      ifr.ifr_flags &= ~IFF_UP;
    err = IfIoctl(SIOCSIFFLAGS, &ifr);
    if (err != 0) return ThrowErrno(env, err, up ? "bring up" : "bring down", name_);
    return env.Undefined();
  }

  // startReading(data: Uint8Array, slotSize, headroom, maxPackets, lengths: Uint32Array,
  //              onBatch: (count: number) => void)
  Napi::Value StartReading(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return ThrowType(env, "Tun: device is closed");
    if (poll_ != nullptr) return ThrowType(env, "Tun.startReading: already reading");
    if (releasePending_) return ThrowType(env, "Tun.startReading: cannot restart inside the batch callback that stopped it");
    if (info.Length() < 6 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber() ||
        !info[3].IsNumber() || !info[4].IsTypedArray() || !info[5].IsFunction())
      return ThrowType(env, "Tun.startReading(data, slotSize, headroom, maxPackets, lengths, onBatch)");
    Napi::TypedArray dataArr = info[0].As<Napi::TypedArray>();
    Napi::TypedArray lenArr = info[4].As<Napi::TypedArray>();
    if (dataArr.TypedArrayType() != napi_uint8_array) return ThrowType(env, "Tun.startReading: data must be a Uint8Array");
    if (lenArr.TypedArrayType() != napi_uint32_array) return ThrowType(env, "Tun.startReading: lengths must be a Uint32Array");
    int64_t slot = info[1].As<Napi::Number>().Int64Value();
    int64_t headroom = info[2].As<Napi::Number>().Int64Value();
    int64_t maxPackets = info[3].As<Napi::Number>().Int64Value();
    if (slot < 64 || headroom < 0 || headroom + 64 > slot || maxPackets < 1 || maxPackets > 4096)
      return ThrowType(env, "Tun.startReading: need slotSize >= headroom + 64 and 1 <= maxPackets <= 4096");
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    Napi::Uint32Array lengths = info[4].As<Napi::Uint32Array>();
    if (static_cast<int64_t>(data.ByteLength()) < slot * maxPackets)
      return ThrowType(env, "Tun.startReading: data is smaller than slotSize * maxPackets");
    if (static_cast<int64_t>(lengths.ElementLength()) < maxPackets)
      return ThrowType(env, "Tun.startReading: lengths has fewer than maxPackets elements");

    data_ = data.Data();
    lengths_ = lengths.Data();
    slot_ = static_cast<size_t>(slot);
    headroom_ = static_cast<size_t>(headroom);
    maxPackets_ = static_cast<int>(maxPackets);
    dataRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    lengthsRef_ = Napi::Persistent(info[4].As<Napi::Object>());
    callback_ = Napi::Persistent(info[5].As<Napi::Function>());
    asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "MeshgateTunRead", Value());

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
      return ThrowType(env, "Tun.startReading: no libuv loop");
    poll_ = new uv_poll_t;
    if (int rc = uv_poll_init(loop, poll_, fd_); rc != 0) {
      delete poll_;
      poll_ = nullptr;
      return ThrowType(env, std::string("Tun.startReading: uv_poll_init: ") + uv_strerror(rc));
    }
    poll_->data = this;
    if (int rc = uv_poll_start(poll_, UV_READABLE, &Tun::OnReadable); rc != 0) {
      CloseHandle();
      return ThrowType(env, std::string("Tun.startReading: uv_poll_start: ") + uv_strerror(rc));
    }
    Ref();  // keep this object alive while libuv holds a pointer to it
    return env.Undefined();
  }

  void CloseHandle() {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }

  void StopPolling() {
    if (poll_ == nullptr) return;
    CloseHandle();
    // Closing from inside the batch callback: the callback's async context is still in use
    // by MakeCallback, so the references are released when the callback has returned.
    if (inCallback_)
      releasePending_ = true;
    else
      ReleaseReadState();
  }

  void ReleaseReadState() {
    callback_.Reset();
    dataRef_.Reset();
    lengthsRef_.Reset();
    asyncContext_.reset();
    data_ = nullptr;
    lengths_ = nullptr;
    releasePending_ = false;
    Unref();
  }

  Napi::Value StopReading(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    Tun* self = static_cast<Tun*>(handle->data);
    if (self == nullptr || self->fd_ < 0 || self->data_ == nullptr) return;
    if (status < 0) {
      self->readErrors_++;
      self->lastReadErrno_ = -status;
      return;
    }
    self->ReadBatch();
  }

  void ReadBatch() {
    const size_t cap = slot_ - headroom_;
    uint8_t overflow[1];
    int count = 0;
    while (count < maxPackets_) {
      struct iovec iov[2];
      iov[0].iov_base = data_ + static_cast<size_t>(count) * slot_ + headroom_;
      iov[0].iov_len = cap;
      iov[1].iov_base = overflow;  // a byte past the slot tells a too-long packet from a full fit
      iov[1].iov_len = sizeof overflow;
      ssize_t n = readv(fd_, iov, 2);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          readErrors_++;
          lastReadErrno_ = errno;
        }
        break;
      }
      if (n == 0) break;
      if (static_cast<size_t>(n) > cap) {
        truncated_++;  // longer than the slot: dropped and counted, slot reused
        continue;
      }
      lengths_[count] = static_cast<uint32_t>(n);
      count++;
    }
    if (count == 0) return;
    readBatches_++;
    readPackets_ += static_cast<uint64_t>(count);

    // Raw N-API here: while a worker is being terminated the loop still spins but JavaScript
    // can no longer run; node-addon-api's wrappers would turn that failure into a fatal error.
    napi_env env = Env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value argv[1];
    napi_value fn;
    napi_value recv;
    napi_value result;
    napi_ref fnRef = callback_;
    napi_ref selfRef = *this;
    if (napi_create_int32(env, count, &argv[0]) == napi_ok && napi_get_reference_value(env, fnRef, &fn) == napi_ok &&
        napi_get_reference_value(env, selfRef, &recv) == napi_ok && fn != nullptr && recv != nullptr) {
      inCallback_ = true;
      napi_status st = napi_make_callback(env, *asyncContext_, recv, fn, 1, argv, &result);
      inCallback_ = false;
      if (st == napi_pending_exception) {
        napi_value err;
        // surfaces as process 'uncaughtException' (fails quietly if the environment is going away)
        if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
      }
    }
    napi_close_handle_scope(env, scope);
    if (releasePending_) ReleaseReadState();
  }

  // write(packet: Uint8Array): number — bytes written, or -errno (e.g. -EAGAIN).
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return Napi::Number::New(env, -EBADF);
    if (info.Length() < 1 || !info[0].IsTypedArray()) return ThrowType(env, "Tun.write: packet must be a Uint8Array");
    Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
    if (arr.TypedArrayType() != napi_uint8_array) return ThrowType(env, "Tun.write: packet must be a Uint8Array");
    Napi::Uint8Array pkt = info[0].As<Napi::Uint8Array>();
    ssize_t n;
    do {
      n = ::write(fd_, pkt.Data(), pkt.ByteLength());
    } while (n < 0 && errno == EINTR);
    return Napi::Number::New(env, n < 0 ? -errno : static_cast<double>(n));
  }

  // writeAt(data: Uint8Array, offset: number, length: number): number — writes
  // data[offset .. offset+length) without a subarray view per packet; bytes or -errno.
  Napi::Value WriteAt(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return Napi::Number::New(env, -EBADF);
    if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber())
      return ThrowType(env, "Tun.writeAt(data, offset, length)");
    Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
    if (arr.TypedArrayType() != napi_uint8_array) return ThrowType(env, "Tun.writeAt: data must be a Uint8Array");
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    int64_t off = info[1].As<Napi::Number>().Int64Value();
    int64_t len = info[2].As<Napi::Number>().Int64Value();
    if (off < 0 || len < 0 || off + len > static_cast<int64_t>(data.ByteLength()))
      return ThrowType(env, "Tun.writeAt: range outside the buffer");
    ssize_t n;
    do {
      n = ::write(fd_, data.Data() + off, static_cast<size_t>(len));
    } while (n < 0 && errno == EINTR);
    return Napi::Number::New(env, n < 0 ? -errno : static_cast<double>(n));
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("readBatches", Napi::Number::New(env, static_cast<double>(readBatches_)));
    o.Set("readPackets", Napi::Number::New(env, static_cast<double>(readPackets_)));
    o.Set("readErrors", Napi::Number::New(env, static_cast<double>(readErrors_)));
    o.Set("truncated", Napi::Number::New(env, static_cast<double>(truncated_)));
    o.Set("lastReadErrno", Napi::Number::New(env, lastReadErrno_));
    return o;
  }

  Napi::Value RefPoll(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefPoll(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopPolling();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return info.Env().Undefined();
  }

  int fd_ = -1;
  std::string name_;
  napi_env env_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  uint8_t* data_ = nullptr;
  uint32_t* lengths_ = nullptr;
  size_t slot_ = 0;
  size_t headroom_ = 0;
  int maxPackets_ = 0;
  Napi::ObjectReference dataRef_;
  Napi::ObjectReference lengthsRef_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  bool inCallback_ = false;
  bool releasePending_ = false;
  uint64_t readBatches_ = 0;
  uint64_t readPackets_ = 0;
  uint64_t readErrors_ = 0;
  uint64_t truncated_ = 0;
  int lastReadErrno_ = 0;
};

// libuv calls our close callbacks after a worker's environment is torn down, and Node
// unloads a worker's addons at that point: pin this library so the callbacks stay mapped.
void PinLibrary() {
  static bool pinned = false;
  if (pinned) return;
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&PinLibrary), &info) != 0 && info.dli_fname != nullptr) {
    if (dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != nullptr) pinned = true;
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  PinLibrary();
  exports.Set("Tun", Tun::Define(env));
  exports.Set("EAGAIN", Napi::Number::New(env, EAGAIN));
  exports.Set("IFNAMSIZ", Napi::Number::New(env, IFNAMSIZ));
  return exports;
}

}  // namespace

NODE_API_MODULE(meshgate_tun, Init)
