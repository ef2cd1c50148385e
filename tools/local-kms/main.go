// Command local-kms serves the AWS KMS API for local development and tests.
//
// It is a thin wrapper around github.com/nsmithuk/local-kms (pinned in go.mod)
// whose only purpose is to bind to a loopback address: upstream always listens
// on 0.0.0.0, and Veil's local stack must never be reachable from the network.
// Seeding follows the upstream seed-file format (Keys.Symmetric.Aes,
// Keys.Asymmetric.Ecc, Aliases); existing keys and aliases are never overwritten.
package main

import (
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/nsmithuk/local-kms/src"
	"github.com/nsmithuk/local-kms/src/cmk"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	"gopkg.in/yaml.v2"
)

type seedFile struct {
	Keys struct {
		Symmetric struct {
			Aes []cmk.AesKey `yaml:"Aes"`
		} `yaml:"Symmetric"`
		Asymmetric struct {
			Ecc []cmk.EccKey `yaml:"Ecc"`
		} `yaml:"Asymmetric"`
	} `yaml:"Keys"`
	Aliases []data.Alias `yaml:"Aliases"`
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func seed(path string, db *data.Database) error {
	content, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read seed file: %w", err)
	}
	var s seedFile
	if err := yaml.UnmarshalStrict(content, &s); err != nil {
		return fmt.Errorf("parse seed file %s: %w", path, err)
	}
	var keys []cmk.Key
	for i := range s.Keys.Symmetric.Aes {
		keys = append(keys, &s.Keys.Symmetric.Aes[i])
	}
	for i := range s.Keys.Asymmetric.Ecc {
		keys = append(keys, &s.Keys.Asymmetric.Ecc[i])
	}
	added := 0
	for _, key := range keys {
		if _, err := db.LoadKey(key.GetArn()); errors.As(err, &data.KeyNotFoundError) {
			if err := db.SaveKey(key); err != nil {
				return fmt.Errorf("save key %s: %w", key.GetArn(), err)
			}
			added++
		}
	}
	for i := range s.Aliases {
		alias := &s.Aliases[i]
		alias.AliasArn = config.ArnPrefix() + alias.AliasName
		if _, err := db.LoadAlias(alias.AliasArn); err != nil {
			if err := db.SaveAlias(alias); err != nil {
				return fmt.Errorf("save alias %s: %w", alias.AliasName, err)
			}
			added++
		}
	}
	log.Printf("seeded %d new keys/aliases from %s", added, path)
	return nil
}

func main() {
	config.AWSAccountId = env("KMS_ACCOUNT_ID", "111122223333")
	config.AWSRegion = env("KMS_REGION", "eu-west-2")
	dataPath, _ := filepath.Abs(env("KMS_DATA_PATH", "/tmp/local-kms"))
	config.DatabasePath = dataPath
	addr := net.JoinHostPort(env("KMS_HOST", "127.0.0.1"), env("PORT", "4599"))

	db := data.NewDatabase(config.DatabasePath)
	defer db.Close()

	if seedPath := os.Getenv("KMS_SEED_PATH"); seedPath != "" {
		if err := seed(seedPath, db); err != nil {
			log.Fatalf("local-kms: %v", err)
		}
	}

	listener, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("local-kms: listen on %s: %v", addr, err)
	}
	log.Printf("local-kms listening on %s (data in %s)", listener.Addr(), dataPath)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src.HandleRequest(w, r, db)
	})
	log.Fatal(http.Serve(listener, handler))
}
