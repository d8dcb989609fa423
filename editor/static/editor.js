// The editor's pages work without JavaScript except for uploads; this file adds confirmations
// for archive and rollback, uploads through POST /upload with the session's CSRF token, and a
// refresh of the uploads page while a job runs.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const zh = document.documentElement.lang === "zh-CN";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (ev) => {
      const what = form.dataset.confirm;
      const msg = what === "archive"
        ? (zh ? "归档后机器人将不再看到该条目，确定吗？" : "Archived knowledge is hidden from bots. Archive it?")
        : what === "reject"
        ? (zh ? "驳回会删除这些文档（保留在历史中），确定吗？" : "Rejecting removes the documents (their history keeps them). Reject?")
        : (zh ? "回滚会立即发布所选版本，确定吗？" : "Rolling back publishes that revision at once. Roll back?");
      if (!window.confirm(msg)) ev.preventDefault();
    });
  }

  const upload = document.getElementById("upload-form");
  if (upload) {
    const status = document.getElementById("upload-status");
    upload.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const files = document.getElementById("upload-files").files;
      if (!files.length) { status.textContent = zh ? "请选择文件" : "Choose files first"; return; }
      const body = new FormData();
      for (const f of files) body.append("file", f, f.name);
      const params = new URLSearchParams({
        department: document.getElementById("upload-department").value,
        visibility: document.getElementById("upload-visibility").value,
      });
      status.textContent = zh ? "上传中…" : "Uploading…";
      try {
        const res = await fetch("/upload?" + params, { method: "POST", body, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
        const data = await res.json();
        if (!res.ok) {
          status.textContent = (data.errors && data.errors[0] && data.errors[0].message) || res.statusText;
          status.classList.add("error");
          return;
        }
        status.textContent = (zh ? "已创建任务 " : "Job ") + data.id;
        window.location.reload();
      } catch (err) {
        status.textContent = String(err);
        status.classList.add("error");
      }
    });
    if (upload.dataset.running === "true") {
      window.setTimeout(() => window.location.reload(), 1500);
    }
  }
});
