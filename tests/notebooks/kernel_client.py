"""Runs cells on the clang-repl kernel (kernel spec xcpp17 under JUPYTER_PATH) and returns what came back."""

import jupyter_client


class Session:
    def __init__(self, cwd):
        self.manager = jupyter_client.KernelManager(kernel_name="xcpp17")
        self.manager.start_kernel(cwd=cwd)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code, timeout=120):
        """Returns (status, stdout, stderr, displays, error) of one cell.

        stop_on_error=False: after a cell that failed, ipykernel aborts the execute requests that reach its queue
        before its (zero-delay) "stop aborting" callback runs; the reply is "aborted", with no output and no error.
        The test sends the next cell as soon as the reply came, so on a loaded machine it sometimes won that race
        (seen twice: the cells after the compile error and after the failed load came back empty)."""
        msg_id = self.client.execute(code, stop_on_error=False)
        stdout, stderr, displays, error = [], [], [], None
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                (stdout if content["name"] == "stdout" else stderr).append(content["text"])
            elif kind == "display_data":
                displays.append(content["data"])
            elif kind == "error":
                error = content
            elif kind == "status" and content["execution_state"] == "idle":
                break
        # The reply to this request: a loaded machine can leave an extra kernel_info reply of the start-up
        # handshake (wait_for_ready asks again when the kernel is slow) queued before it.
        while True:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return reply["content"]["status"], "".join(stdout), "".join(stderr), displays, error

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        # Dropped here, not at interpreter exit, where jupyter_client's __del__ logs into a torn-down logging module.
        del self.client
