// A RecordReader that runs another one on its own thread, a few batches of rows ahead: the
// export's second stage. One thread reads and flattens (the inner reader) while the caller's
// thread formats, hashes and writes the rows before them.
#ifndef EXPORTD_CORE_PREFETCH_READER_H_
#define EXPORTD_CORE_PREFETCH_READER_H_

#include <memory>

#include "core/source.h"

namespace exportd {

// Returns a reader that yields exactly the rows, keys and final status of `inner`, in order.
// `inner` is used only by the prefetch thread (so it needs no thread-safety of its own) and is
// destroyed on the caller's thread after that thread has stopped; whatever `inner` refers to
// must outlive the returned reader. The prefetch thread stops at the end of `inner`, on its
// error, or when the returned reader is destroyed (then the rows read ahead are dropped).
// Memory: at most a few batches of ~1 MB (a single row larger than that makes its batch larger).
// The returned reader itself follows RecordReader's contract (one consumer thread).
std::unique_ptr<RecordReader> MakePrefetchingReader(std::unique_ptr<RecordReader> inner);

}  // namespace exportd

#endif  // EXPORTD_CORE_PREFETCH_READER_H_
