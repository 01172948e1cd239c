#pragma once
// A TCP port for a c10d rendezvous on this machine (`dissect launch`, the data-parallel check of `dissect gpu-check`).

namespace dissect::cli {

// A port that is free on the loopback interface now (the kernel's choice for port 0; the caller binds it right
// after). Throws std::runtime_error when no socket can be opened or bound, naming `who`.
int FreeLoopbackPort(const char* who);

}  // namespace dissect::cli
