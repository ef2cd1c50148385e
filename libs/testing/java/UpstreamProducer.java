import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * An upstream producer as an identity-verification system might run it: the Java Kafka client,
 * with a compression codec of its choosing. Integration tests pipe records in as JSON lines
 * ({"key": string|null, "value": string, "headers": {name: value}}) and read one line back per
 * acknowledged record: "partition offset". Instead of "value", {"fill": {"byte": "x", "bytes": n}}
 * sends n copies of one byte: a decompression bomb once compressed.
 *
 *   java -cp '<kafka jars>/*' UpstreamProducer.java <bootstrap> <topic> <none|gzip|snappy|lz4|zstd>
 */
public class UpstreamProducer {
  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper();
    java.util.List<ProducerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) continue;
        JsonNode node = json.readTree(line);
        byte[] key = node.hasNonNull("key") ? node.get("key").asText().getBytes(StandardCharsets.UTF_8) : null;
        byte[] value;
        if (node.has("fill")) {
          JsonNode fill = node.get("fill");
          value = new byte[fill.get("bytes").asInt()];
          Arrays.fill(value, fill.get("byte").asText().getBytes(StandardCharsets.UTF_8)[0]);
        } else {
          value = node.get("value").asText().getBytes(StandardCharsets.UTF_8);
        }
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(args[1], key, value);
        if (node.has("headers")) {
          Iterator<Map.Entry<String, JsonNode>> headers = node.get("headers").fields();
          while (headers.hasNext()) {
            Map.Entry<String, JsonNode> h = headers.next();
            record.headers().add(h.getKey(), h.getValue().asText().getBytes(StandardCharsets.UTF_8));
          }
        }
        records.add(record);
      }
    }

    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("compression.type", args[2]);
    props.put("acks", "all");
    props.put("linger.ms", "20");
    props.put("key.serializer", ByteArraySerializer.class.getName());
    props.put("value.serializer", ByteArraySerializer.class.getName());
    // As an upstream system connects to Veil's broker: SASL/SCRAM over TLS, trusting Veil's CA.
    String protocol = System.getenv().getOrDefault("KAFKA_SECURITY_PROTOCOL", "plaintext");
    if (!protocol.equals("plaintext")) {
      props.put("security.protocol", protocol.toUpperCase());
      if (System.getenv("KAFKA_SSL_CA_FILE") != null) {
        props.put("ssl.truststore.type", "PEM");
        props.put("ssl.truststore.location", System.getenv("KAFKA_SSL_CA_FILE"));
      }
      if (protocol.equals("sasl_ssl")) {
        props.put("sasl.mechanism", System.getenv().getOrDefault("KAFKA_SASL_MECHANISM", "scram-sha-512").toUpperCase());
        props.put(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + System.getenv("KAFKA_SASL_USERNAME") + "\" password=\"" + System.getenv("KAFKA_SASL_PASSWORD") + "\";");
      }
    }
    // The client checks a record's uncompressed size against max.request.size (1 MiB) and
    // buffer.memory (32 MiB); the broker only sees the compressed batch. Room for the largest record.
    long largest = records.stream().mapToLong(r -> r.value().length).max().orElse(0);
    if (largest > 512 * 1024) {
      props.put("max.request.size", String.valueOf(largest + (1 << 20)));
      props.put("buffer.memory", String.valueOf(Math.max(32L << 20, 2 * largest + (1 << 20))));
    }

    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      java.util.List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new java.util.ArrayList<>();
      for (ProducerRecord<byte[], byte[]> record : records) sent.add(producer.send(record));
      producer.flush();
      for (var f : sent) {
        var meta = f.get();
        System.out.println(meta.partition() + " " + meta.offset());
      }
    }
  }
}
