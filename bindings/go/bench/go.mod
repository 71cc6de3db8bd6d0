module github.com/warden-auth/warden/bindings/go/bench

go 1.24

require github.com/warden-auth/warden/bindings/go v0.0.0

require github.com/golang-jwt/jwt/v5 v5.3.1

replace github.com/warden-auth/warden/bindings/go => ../
