#include "storage/fault_vfs.h"

#include <cstdlib>

#include "sqlite3.h"

namespace samplan::storage {
namespace {

// A file of the shim: SQLite's file header, then the default VFS's own
// file object right behind it (szOsFile covers both).
struct ShimFile {
  sqlite3_file base;
  sqlite3_file* real;
};

FaultVfs* instance = nullptr;

sqlite3_vfs* Root(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}
sqlite3_file* Real(sqlite3_file* f) {
  return reinterpret_cast<ShimFile*>(f)->real;
}

int Close(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 offset) {
  return Real(f)->pMethods->xRead(Real(f), buf, n, offset);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 offset) {
  if (int rc = instance->Inject(SQLITE_IOERR_WRITE); rc != SQLITE_OK) {
    return rc;
  }
  return Real(f)->pMethods->xWrite(Real(f), buf, n, offset);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = instance->Inject(SQLITE_IOERR_TRUNCATE); rc != SQLITE_OK) {
    return rc;
  }
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (int rc = instance->Inject(SQLITE_IOERR_FSYNC); rc != SQLITE_OK) {
    return rc;
  }
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xLock(Real(f), level);
}
int Unlock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xUnlock(Real(f), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) {
  return Real(f)->pMethods->xSectorSize(Real(f));
}
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend,
           void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag);
}
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int n, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), offset, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), offset, p);
}

// Version 3 (shared memory and memory-mapped reads), which the default
// VFS's files offer; a file of an older version gets a table of its own.
const sqlite3_io_methods kMethods3 = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};
const sqlite3_io_methods kMethods1 = {
    1,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags,
         int* out_flags) {
  auto* shim = reinterpret_cast<ShimFile*>(f);
  shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
  const int rc =
      Root(vfs)->xOpen(Root(vfs), name, shim->real, flags, out_flags);
  const sqlite3_io_methods* real = shim->real->pMethods;
  if (real == nullptr) {
    f->pMethods = nullptr;
  } else {
    f->pMethods = real->iVersion >= 3 ? &kMethods3 : &kMethods1;
  }
  return rc;
}
int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Root(vfs)->xDelete(Root(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Root(vfs)->xAccess(Root(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Root(vfs)->xFullPathname(Root(vfs), name, n, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) {
  return Root(vfs)->xDlOpen(Root(vfs), name);
}
void DlError(sqlite3_vfs* vfs, int n, char* out) {
  Root(vfs)->xDlError(Root(vfs), n, out);
}
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return Root(vfs)->xDlSym(Root(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) {
  Root(vfs)->xDlClose(Root(vfs), handle);
}
int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  return Root(vfs)->xRandomness(Root(vfs), n, out);
}
int Sleep(sqlite3_vfs* vfs, int microseconds) {
  return Root(vfs)->xSleep(Root(vfs), microseconds);
}
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  return Root(vfs)->xCurrentTime(Root(vfs), out);
}
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return Root(vfs)->xGetLastError(Root(vfs), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Root(vfs)->xCurrentTimeInt64(Root(vfs), out);
}

}  // namespace

int FaultVfs::Inject(int io_error_code) {
  const int fault = fault_.load();
  if (fault == SQLITE_OK) return SQLITE_OK;
  failures_.fetch_add(1);
  // A device error is reported as the operation's own I/O error code.
  return (fault & 0xff) == SQLITE_IOERR ? io_error_code : fault;
}

FaultVfs& FaultVfs::Install() {
  static FaultVfs* const vfs = [] {
    instance = new FaultVfs();
    sqlite3_initialize();
    sqlite3_vfs* root = sqlite3_vfs_find(nullptr);
    if (root == nullptr || root->iVersion < 2) std::abort();
    auto* shim = new sqlite3_vfs();
    shim->iVersion = 2;
    shim->szOsFile = static_cast<int>(sizeof(ShimFile)) + root->szOsFile;
    shim->mxPathname = root->mxPathname;
    shim->zName = kName;
    shim->pAppData = root;
    shim->xOpen = Open;
    shim->xDelete = Delete;
    shim->xAccess = Access;
    shim->xFullPathname = FullPathname;
    shim->xDlOpen = DlOpen;
    shim->xDlError = DlError;
    shim->xDlSym = DlSym;
    shim->xDlClose = DlClose;
    shim->xRandomness = Randomness;
    shim->xSleep = Sleep;
    shim->xCurrentTime = CurrentTime;
    shim->xGetLastError = GetLastError;
    shim->xCurrentTimeInt64 = CurrentTimeInt64;
    if (sqlite3_vfs_register(shim, /*makeDflt=*/0) != SQLITE_OK) std::abort();
    return instance;
  }();
  return *vfs;
}

}  // namespace samplan::storage
