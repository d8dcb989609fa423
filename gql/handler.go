package gql

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/fixgraph/fixgraph"
)

// Options sets limits of the GraphQL endpoint.
type Options struct {
	Introspection bool
	MaxDepth      int          // deepest nesting of selections; 0 means DefaultMaxDepth
	MaxComplexity int          // most an operation may cost (see limits.go); 0 means DefaultMaxComplexity
	MaxUploadSize int64        // largest multipart upload request; 0 refuses uploads over GraphQL
	Logger        *slog.Logger // internal errors are logged here; nil means slog.Default()
}

// Query limits, unless Options set others.
const (
	DefaultMaxDepth      = 12
	DefaultMaxComplexity = 50_000
)

// NewHandler returns the GraphQL endpoint over r.
func NewHandler(r *Resolver, opt Options) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r, Complexity: complexity()}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	if opt.MaxUploadSize > 0 {
		srv.AddTransport(transport.MultipartForm{MaxUploadSize: opt.MaxUploadSize, MaxMemory: 8 << 20})
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(depthLimit{max: cmp.Or(opt.MaxDepth, DefaultMaxDepth)})
	srv.Use(extension.FixedComplexityLimit(cmp.Or(opt.MaxComplexity, DefaultMaxComplexity)))
	if opt.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(introspectionOff{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withLoaders(ctx, r.Graph))
	})
	logger := opt.Logger
	if logger == nil {
		logger = slog.Default()
	}
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		return presentError(ctx, err, logger)
	})
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		logger.Error("panic in resolver", "panic", v)
		return errors.New("internal error")
	})
	return srv
}

// presentError is where application errors become GraphQL errors: the code goes to
// extensions.code, the safe message to message, and internal errors are logged and hidden.
func presentError(ctx context.Context, err error, logger *slog.Logger) *gqlerror.Error {
	var gerr *gqlerror.Error
	if errors.As(err, &gerr) && gerr.Err == nil {
		return gerr // a parse or validation error from gqlgen itself: safe as it is
	}
	ge := graphql.DefaultErrorPresenter(ctx, err)
	code := fixgraph.CodeOf(err)
	if errors.Is(err, context.DeadlineExceeded) {
		code = fixgraph.EUNAVAILABLE
	}
	if code == fixgraph.EINTERNAL {
		logger.Error("graphql", "path", ge.Path.String(), "err", err)
	}
	ge.Message = fixgraph.MessageOf(err)
	if code == fixgraph.EUNAVAILABLE && fixgraph.MessageOf(err) == "internal error" {
		ge.Message = "the request took too long"
	}
	if ge.Extensions == nil {
		ge.Extensions = map[string]any{}
	}
	ge.Extensions["code"] = code
	return ge
}

// Playground returns the GraphiQL page that talks to endpoint.
func Playground(endpoint string) http.Handler {
	return playground.Handler("fixgraph", endpoint)
}
