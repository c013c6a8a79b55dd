CREATE TABLE "gateway_policies" (
	"workspace_id" uuid PRIMARY KEY NOT NULL,
	"mode" text DEFAULT 'off' NOT NULL,
	"policy" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"record_text" boolean DEFAULT true NOT NULL,
	"activated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" uuid,
	CONSTRAINT "gateway_policies_mode_check" CHECK ("gateway_policies"."mode" in ('off', 'shadow', 'enforce'))
);
--> statement-breakpoint
ALTER TABLE "api_keys" DROP CONSTRAINT "api_keys_scope_check";--> statement-breakpoint
ALTER TABLE "provider_secrets" ADD COLUMN "base_url" text;--> statement-breakpoint
ALTER TABLE "gateway_policies" ADD CONSTRAINT "gateway_policies_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gateway_policies" ADD CONSTRAINT "gateway_policies_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_scope_check" CHECK ("api_keys"."scope" in ('ingest', 'read', 'admin', 'gateway'));