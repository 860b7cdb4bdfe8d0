<?php
/**
 * Plugin Name: Sluice for Akismet
 * Description: Sends the Akismet plugin's API calls to a self-hosted Sluice server instead of rest.akismet.com. Set SLUICE_AKISMET_URL in wp-config.php.
 * Version:     1.0.0
 * License:     MIT
 *
 * A must-use plugin: copy this file into wp-content/mu-plugins/. WordPress has no setting for
 * the Akismet host, so this hooks core's `pre_http_request` filter: every request to
 * rest.akismet.com (or KEY.rest.akismet.com) is sent to SLUICE_AKISMET_URL with the same
 * method, path, query, body and headers, and Sluice's answer is handed back to the Akismet
 * plugin exactly as WordPress would have returned Akismet's (the usual response array, or a
 * WP_Error if Sluice cannot be reached, on which the plugin holds comments and retries).
 *
 * wp-config.php:
 *     define( 'SLUICE_AKISMET_URL', 'https://sluice.example.org' );   // no trailing path
 *     define( 'SLUICE_AKISMET_SSLVERIFY', false );  // optional: self-signed certificate
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The Sluice base URL without a trailing slash, or '' when not configured.
 *
 * @return string
 */
function sluice_akismet_base_url() {
	if ( ! defined( 'SLUICE_AKISMET_URL' ) ) {
		return '';
	}
	return rtrim( trim( (string) SLUICE_AKISMET_URL ), '/' );
}

/**
 * The key in an old-style key host name (KEY.rest.akismet.com), '' for rest.akismet.com,
 * or null when the host is not Akismet's.
 *
 * @param string $host Host name of the request.
 * @return string|null
 */
function sluice_akismet_host_key( $host ) {
	$host = strtolower( (string) $host );
	if ( 'rest.akismet.com' === $host ) {
		return '';
	}
	if ( preg_match( '/^([a-z0-9]+)\.rest\.akismet\.com$/', $host, $match ) ) {
		return $match[1];
	}
	return null;
}

/**
 * `pre_http_request` filter: answer requests to Akismet with Sluice's response.
 *
 * @param false|array|WP_Error $preempt A response another filter already chose, or false.
 * @param array                $args    The request arguments (method, body, headers, ...).
 * @param string               $url     The requested URL.
 * @return false|array|WP_Error
 */
function sluice_akismet_redirect( $preempt, $args, $url ) {
	static $forwarding = false;

	if ( false !== $preempt || $forwarding ) {
		return $preempt;
	}
	$base = sluice_akismet_base_url();
	if ( '' === $base ) {
		return $preempt;
	}
	$parts = wp_parse_url( $url );
	if ( ! is_array( $parts ) || empty( $parts['host'] ) ) {
		return $preempt;
	}
	$host_key = sluice_akismet_host_key( $parts['host'] );
	if ( null === $host_key ) {
		return $preempt;
	}

	$target = $base . ( isset( $parts['path'] ) ? $parts['path'] : '/' );
	if ( isset( $parts['query'] ) && '' !== $parts['query'] ) {
		$target .= '?' . $parts['query'];
	}

	// Old plugin builds send the key only in the host name; Sluice also reads it from the body.
	if ( '' !== $host_key ) {
		if ( is_array( $args['body'] ) ) {
			if ( ! isset( $args['body']['api_key'] ) ) {
				$args['body']['api_key'] = $host_key;
			}
		} elseif ( false === strpos( '&' . (string) $args['body'], '&api_key=' ) ) {
			$body         = (string) $args['body'];
			$args['body'] = ( '' === $body ? '' : $body . '&' ) . 'api_key=' . rawurlencode( $host_key );
		}
	}

	// The site owner chose this URL; it may well be on localhost or a private network.
	$args['reject_unsafe_urls'] = false;
	if ( defined( 'SLUICE_AKISMET_SSLVERIFY' ) ) {
		$args['sslverify'] = (bool) SLUICE_AKISMET_SSLVERIFY;
	}

	$forwarding = true;
	try {
		$response = wp_remote_request( $target, $args );
	} finally {
		$forwarding = false;
	}
	return $response;
}
add_filter( 'pre_http_request', 'sluice_akismet_redirect', 10, 3 );

/**
 * Tell administrators when the plugin is installed but not configured.
 */
function sluice_akismet_notice() {
	if ( '' !== sluice_akismet_base_url() || ! current_user_can( 'manage_options' ) ) {
		return;
	}
	echo '<div class="notice notice-warning"><p>';
	echo esc_html__( 'Sluice for Akismet: define SLUICE_AKISMET_URL in wp-config.php; until then Akismet requests go to rest.akismet.com.', 'sluice' );
	echo '</p></div>';
}
add_action( 'admin_notices', 'sluice_akismet_notice' );
