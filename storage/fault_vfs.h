// A SQLite VFS for tests that passes every call to SQLite's default VFS and
// can make the disk fail: while a fault is set, every write, sync and
// truncate of any file opened through it (database, write-ahead log,
// journal) fails with the chosen SQLite error, as a full disk or a failing
// device would. Reads keep working. Open a store through it with
// SqliteOptions::vfs = FaultVfs::kName (or ServerOptions::sqlite_vfs).
//
// Thread-safe; one process-wide instance.

#ifndef SAMPLAN_STORAGE_FAULT_VFS_H_
#define SAMPLAN_STORAGE_FAULT_VFS_H_

#include <atomic>
#include <cstdint>

namespace samplan::storage {

class FaultVfs {
 public:
  static constexpr char kName[] = "samplan-fault";

  // Registers the VFS (once; later calls return the same instance).
  static FaultVfs& Install();

  // From now on writes, syncs and truncates fail with `sqlite_code`
  // (SQLITE_FULL for a full disk, SQLITE_IOERR for a device error); 0
  // clears the fault.
  void Fail(int sqlite_code) { fault_.store(sqlite_code); }
  int fault() const { return fault_.load(); }

  // How many calls failed because of a fault since Install.
  int64_t failures() const { return failures_.load(); }

  // Internal: the VFS's callbacks count through this.
  int Inject(int io_error_code);

 private:
  FaultVfs() = default;
  std::atomic<int> fault_{0};
  std::atomic<int64_t> failures_{0};
};

}  // namespace samplan::storage

#endif  // SAMPLAN_STORAGE_FAULT_VFS_H_
