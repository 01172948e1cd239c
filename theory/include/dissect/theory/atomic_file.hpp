#pragma once
// Files that no reader ever sees half-written: the content goes to a temporary name in the same folder, which is then
// renamed over the target (a rename within one file system replaces the file in one step). A failure at any step
// removes the temporary and leaves the previous file, if there was one, as it was. The one writer of .npy files,
// checkpoints and every file a command writes into --out.

#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace dissect::theory {

// Calls write(temporary) to create the file at `temporary` (a hidden name next to `path`), then renames it to `path`.
// What `write` throws propagates after the temporary is removed. A failed rename throws std::runtime_error
// "<context>: cannot move the finished file into place: <reason>".
void WriteFileAtomically(const std::filesystem::path& path,
                         std::string_view context,
                         const std::function<void(const std::filesystem::path& temporary)>& write);

// The same for content written to a binary stream. Throws std::runtime_error "<context>: cannot open <temporary> for
// writing" and "<context>: write failed (disk full or not writable?)".
void WriteStreamAtomically(const std::filesystem::path& path,
                           std::string_view context,
                           const std::function<void(std::ostream& out)>& write);

}  // namespace dissect::theory
