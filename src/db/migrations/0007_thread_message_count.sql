ALTER TABLE "threads" ADD COLUMN "message_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE "threads" SET "message_count" = (SELECT count(*) FROM "messages" WHERE "messages"."thread_id" = "threads"."id");
