package editor

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fixgraph/fixgraph"
)

// Reviews lists and settles what the jobs of departments that review before publishing wrote
// (ingest.Jobs). Settle checks who may: an admin or a reviewer of the job's department.
type Reviews interface {
	Review(ctx context.Context, jobID string) (*fixgraph.Job, []fixgraph.ReviewItem, error)
	Pending(ctx context.Context, j *fixgraph.Job) (int, error)
	Settle(ctx context.Context, jobID string, docIDs []string, approve bool) ([]fixgraph.ReviewItem, error)
}

// Departments keeps the departments' settings (ingest.State).
type Departments interface {
	Department(name string) (fixgraph.Department, error)
	SetDepartment(d fixgraph.Department) error
	Departments() ([]fixgraph.Department, error)
}

func init() {
	for k, v := range map[string]string{
		"Review":                     "审核",
		"Awaiting review":            "待审核",
		"Approve":                    "通过",
		"Approve all":                "全部通过",
		"Reject all":                 "全部驳回",
		"pending":                    "待审核",
		"approved":                   "已通过",
		"rejected":                   "已驳回",
		"superseded":                 "已被新版本取代",
		"Document":                   "文档",
		"File":                       "文件",
		"Department settings":        "部门设置",
		"Review before publish":      "发布前审核",
		"Save":                       "保存",
		"Publish at once":            "直接发布",
		"Updated":                    "更新时间",
		"Add or change a department": "添加或修改部门",
		"Uploads and crawls of a department that reviews before publishing are stored in review: bots do not see them until a reviewer of the department approves them.": "开启“发布前审核”的部门，其上传和抓取的文档先进入待审核状态：经本部门审核人通过后机器人才能看到。",
		"Only a reviewer of the job's department or an admin can approve or reject.":                                                                                     "只有该任务所属部门的审核人或管理员可以通过或驳回。",
	} {
		zh[k] = v
	}
}

// reviewRoutes adds the pages of review before publish: a job's review, and the departments'
// settings.
func (h *Handler) reviewRoutes(m *http.ServeMux) {
	m.Handle("GET /editor/review", h.session(h.reviewPage))
	m.Handle("POST /editor/review", h.session(h.settle))
	m.Handle("GET /editor/departments", h.session(h.departmentsPage))
	m.Handle("POST /editor/departments", h.session(h.setDepartment))
}

// pendingOf returns how many documents of j await review, 0 when nothing is reviewed here.
func (h *Handler) pendingOf(ctx context.Context, j *fixgraph.Job) (int, error) {
	if h.Reviews == nil || !j.Review {
		return 0, nil
	}
	return h.Reviews.Pending(ctx, j)
}

// reviewRow is one document of a job's review, as its page lists it.
type reviewRow struct {
	fixgraph.ReviewItem
	Title string
}

func (h *Handler) reviewPage(w http.ResponseWriter, r *http.Request, pg *page) {
	if h.Reviews == nil {
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.ENOTFOUND, "this server reviews nothing"))
		return
	}
	j, items, err := h.Reviews.Review(r.Context(), r.URL.Query().Get("job"))
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	rows := make([]reviewRow, len(items))
	pending := 0
	for i, it := range items {
		rows[i] = reviewRow{ReviewItem: it, Title: it.File.Name}
		if it.Document != nil && it.Document.Title != "" {
			rows[i].Title = it.Document.Title
		}
		if it.State == fixgraph.ReviewPending {
			pending++
		}
	}
	pg.Title = translate(pg.Lang, "Review") + " · " + j.ID
	pg.Data = map[string]any{"Job": j, "Rows": rows, "Pending": pending, "CanReview": pg.User.CanReview(j.Department)}
	h.render(w, http.StatusOK, "review", pg)
}

// settle approves or rejects one document of a job (the form's doc) or every pending one (no
// doc), and records each in the audit log.
func (h *Handler) settle(w http.ResponseWriter, r *http.Request, pg *page) {
	if h.Reviews == nil {
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.ENOTFOUND, "this server reviews nothing"))
		return
	}
	ctx := r.Context()
	jobID := r.URL.Query().Get("job")
	var approve bool
	switch r.PostFormValue("action") {
	case "approve":
		approve = true
	case "reject":
	default:
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.EINVALID, "the review form says neither approve nor reject"))
		return
	}
	var docs []string
	for _, d := range r.PostForm["doc"] {
		if d = strings.TrimSpace(d); d != "" {
			docs = append(docs, d)
		}
	}
	settled, err := h.Reviews.Settle(ctx, jobID, docs, approve)
	action := "review.reject"
	if approve {
		action = "review.approve"
	}
	for _, it := range settled {
		detail := map[string]string{"job": jobID, "source": it.File.Source, "version": strconv.Itoa(it.File.Version)}
		if it.Document != nil {
			detail["department"] = it.Document.Department
		}
		if len(docs) == 0 {
			detail["bulk"] = "true"
		}
		h.Service.audit(ctx, action, it.File.DocumentID, detail)
	}
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	http.Redirect(w, r, "/editor/review?job="+url.QueryEscape(jobID), http.StatusSeeOther)
}

func (h *Handler) departmentsPage(w http.ResponseWriter, r *http.Request, pg *page) {
	if err := h.mayAdministerDepartments(pg.User); err != nil {
		h.fail(w, r, pg, err)
		return
	}
	all, err := h.Departments.Departments()
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	pg.Title = translate(pg.Lang, "Department settings")
	pg.Data = map[string]any{"Departments": all}
	h.render(w, http.StatusOK, "departments", pg)
}

// setDepartment stores the posted settings of one department and records the change in the
// audit log.
func (h *Handler) setDepartment(w http.ResponseWriter, r *http.Request, pg *page) {
	if err := h.mayAdministerDepartments(pg.User); err != nil {
		h.fail(w, r, pg, err)
		return
	}
	d := fixgraph.Department{Name: strings.TrimSpace(r.PostFormValue("name")),
		ReviewBeforePublish: slices.Contains([]string{"on", "true", "1"}, r.PostFormValue("review")),
		UpdatedAt:           h.Service.now().UTC(), UpdatedBy: pg.User.ID}
	if err := h.Departments.SetDepartment(d); err != nil {
		h.fail(w, r, pg, err)
		return
	}
	h.Service.audit(r.Context(), "department.set", "department:"+d.Name, map[string]string{"reviewBeforePublish": strconv.FormatBool(d.ReviewBeforePublish)})
	http.Redirect(w, r, "/editor/departments", http.StatusSeeOther)
}

// mayAdministerDepartments returns the error for a user who may not change departments'
// settings: only admins may, and only where the editor keeps them.
func (h *Handler) mayAdministerDepartments(p *fixgraph.Principal) error {
	if h.Departments == nil {
		return fixgraph.Errorf(fixgraph.ENOTFOUND, "this server keeps no department settings")
	}
	if !p.Can("admin", "") {
		return fixgraph.Errorf(fixgraph.EFORBIDDEN, "only an admin may change departments' settings")
	}
	return nil
}
