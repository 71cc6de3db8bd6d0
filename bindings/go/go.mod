module github.com/warden-auth/warden/bindings/go

go 1.24
