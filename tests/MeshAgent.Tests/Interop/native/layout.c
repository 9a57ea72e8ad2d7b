/*
 * Prints the sizes, field offsets/sizes, constant values and macro results of every struct and constant
 * MeshAgent.Core.Interop.Linux.Interop.Libc passes to the kernel (STYLE rule 6, after Tmds.LibC's
 * StructTests). LayoutTests.cs compiles this with gcc at test time, runs it and compares each line with
 * the C# definition of the same name; it also fails if a C# struct or constant has no line here.
 *
 * Output lines:
 *   size    STRUCT SIZE
 *   field   STRUCT PATH OFFSET SIZE      (PATH may go through nested members: ifr_ifru.ifru_flags)
 *   const   NAME VALUE
 *   macro   NAME ARGUMENT RESULT         (function-like macros: CMSG_LEN(4), NLMSG_ALIGN(5), ...)
 *   missing NAME                         (constant absent from these headers; see LayoutTests)
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>

#define SIZE(s) printf("size %s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f) printf("field %s %s %zu %zu\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define CONST(c) printf("const %s %lld\n", #c, (long long)(c))
#define MACRO(m, a) printf("macro %s %d %lld\n", #m, (a), (long long)m(a))

int main(void)
{
    /* <net/if.h>, <linux/if_tun.h>, <linux/virtio_net.h> */
    SIZE(ifreq);
    FIELD(ifreq, ifr_name);
    FIELD(ifreq, ifr_ifru);
    FIELD(ifreq, ifr_ifru.ifru_flags);
    FIELD(ifreq, ifr_ifru.ifru_ivalue);
    FIELD(ifreq, ifr_ifru.ifru_map);
    SIZE(ifmap);
    FIELD(ifmap, mem_start);
    FIELD(ifmap, mem_end);
    FIELD(ifmap, base_addr);
    FIELD(ifmap, irq);
    FIELD(ifmap, dma);
    FIELD(ifmap, port);
    SIZE(virtio_net_hdr);
    FIELD(virtio_net_hdr, flags);
    FIELD(virtio_net_hdr, gso_type);
    FIELD(virtio_net_hdr, hdr_len);
    FIELD(virtio_net_hdr, gso_size);
    FIELD(virtio_net_hdr, csum_start);
    FIELD(virtio_net_hdr, csum_offset);

    CONST(TUNSETIFF);
    CONST(TUNSETOFFLOAD);
    CONST(TUNSETVNETHDRSZ);
    CONST(IFF_TUN);
    CONST(IFF_NO_PI);
    CONST(IFF_VNET_HDR);
    CONST(IFF_MULTI_QUEUE);
    CONST(TUN_F_CSUM);
    CONST(TUN_F_TSO4);
    CONST(TUN_F_TSO6);
    CONST(TUN_F_TSO_ECN);
#ifdef TUN_F_USO4
    CONST(TUN_F_USO4);
#else
    printf("missing TUN_F_USO4\n");
#endif
#ifdef TUN_F_USO6
    CONST(TUN_F_USO6);
#else
    printf("missing TUN_F_USO6\n");
#endif
    CONST(IFNAMSIZ);
    CONST(IFF_UP);
    CONST(VIRTIO_NET_HDR_F_NEEDS_CSUM);
    CONST(VIRTIO_NET_HDR_F_DATA_VALID);
    CONST(VIRTIO_NET_HDR_F_RSC_INFO);
    CONST(VIRTIO_NET_HDR_GSO_NONE);
    CONST(VIRTIO_NET_HDR_GSO_TCPV4);
    CONST(VIRTIO_NET_HDR_GSO_UDP);
    CONST(VIRTIO_NET_HDR_GSO_TCPV6);
#ifdef VIRTIO_NET_HDR_GSO_UDP_L4
    CONST(VIRTIO_NET_HDR_GSO_UDP_L4);
#else
    printf("missing VIRTIO_NET_HDR_GSO_UDP_L4\n");
#endif
    CONST(VIRTIO_NET_HDR_GSO_ECN);

    /* <sys/socket.h>, <sys/uio.h>, <netinet/in.h>, <netinet/udp.h> */
    SIZE(iovec);
    FIELD(iovec, iov_base);
    FIELD(iovec, iov_len);
    SIZE(msghdr);
    FIELD(msghdr, msg_name);
    FIELD(msghdr, msg_namelen);
    FIELD(msghdr, msg_iov);
    FIELD(msghdr, msg_iovlen);
    FIELD(msghdr, msg_control);
    FIELD(msghdr, msg_controllen);
    FIELD(msghdr, msg_flags);
    SIZE(mmsghdr);
    FIELD(mmsghdr, msg_hdr);
    FIELD(mmsghdr, msg_len);
    SIZE(cmsghdr);
    FIELD(cmsghdr, cmsg_len);
    FIELD(cmsghdr, cmsg_level);
    FIELD(cmsghdr, cmsg_type);
    SIZE(sockaddr_in);
    FIELD(sockaddr_in, sin_family);
    FIELD(sockaddr_in, sin_port);
    FIELD(sockaddr_in, sin_addr);
    FIELD(sockaddr_in, sin_zero);
    SIZE(sockaddr_in6);
    FIELD(sockaddr_in6, sin6_family);
    FIELD(sockaddr_in6, sin6_port);
    FIELD(sockaddr_in6, sin6_flowinfo);
    FIELD(sockaddr_in6, sin6_addr);
    FIELD(sockaddr_in6, sin6_scope_id);

    CONST(AF_UNSPEC);
    CONST(AF_INET);
    CONST(AF_INET6);
    CONST(AF_NETLINK);
    CONST(SOCK_DGRAM);
    CONST(SOCK_RAW);
    CONST(SOCK_NONBLOCK);
    CONST(SOCK_CLOEXEC);
    CONST(SOL_SOCKET);
    CONST(SO_REUSEADDR);
    CONST(SO_SNDBUF);
    CONST(SO_RCVBUF);
    CONST(SO_REUSEPORT);
    CONST(SO_SNDBUFFORCE);
    CONST(SO_RCVBUFFORCE);
    CONST(MSG_CTRUNC);
    CONST(MSG_TRUNC);
    CONST(MSG_DONTWAIT);
    CONST(MSG_WAITFORONE);
    CONST(IPPROTO_UDP);
    CONST(IPPROTO_IPV6);
    CONST(IPV6_V6ONLY);
    CONST(SOL_UDP);
    CONST(UDP_SEGMENT);
    CONST(UDP_GRO);
    MACRO(CMSG_ALIGN, 1);
    MACRO(CMSG_ALIGN, 13);
    MACRO(CMSG_LEN, 0);
    MACRO(CMSG_LEN, 2);
    MACRO(CMSG_LEN, 4);
    MACRO(CMSG_SPACE, 2);
    MACRO(CMSG_SPACE, 4);
    MACRO(CMSG_SPACE, 9);

    /* <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_addr.h>, <linux/if_link.h> */
    SIZE(nlmsghdr);
    FIELD(nlmsghdr, nlmsg_len);
    FIELD(nlmsghdr, nlmsg_type);
    FIELD(nlmsghdr, nlmsg_flags);
    FIELD(nlmsghdr, nlmsg_seq);
    FIELD(nlmsghdr, nlmsg_pid);
    SIZE(nlmsgerr);
    FIELD(nlmsgerr, error);
    FIELD(nlmsgerr, msg);
    SIZE(sockaddr_nl);
    FIELD(sockaddr_nl, nl_family);
    FIELD(sockaddr_nl, nl_pad);
    FIELD(sockaddr_nl, nl_pid);
    FIELD(sockaddr_nl, nl_groups);
    SIZE(rtattr);
    FIELD(rtattr, rta_len);
    FIELD(rtattr, rta_type);
    SIZE(ifinfomsg);
    FIELD(ifinfomsg, ifi_family);
    FIELD(ifinfomsg, __ifi_pad);
    FIELD(ifinfomsg, ifi_type);
    FIELD(ifinfomsg, ifi_index);
    FIELD(ifinfomsg, ifi_flags);
    FIELD(ifinfomsg, ifi_change);
    SIZE(ifaddrmsg);
    FIELD(ifaddrmsg, ifa_family);
    FIELD(ifaddrmsg, ifa_prefixlen);
    FIELD(ifaddrmsg, ifa_flags);
    FIELD(ifaddrmsg, ifa_scope);
    FIELD(ifaddrmsg, ifa_index);
    SIZE(rtmsg);
    FIELD(rtmsg, rtm_family);
    FIELD(rtmsg, rtm_dst_len);
    FIELD(rtmsg, rtm_src_len);
    FIELD(rtmsg, rtm_tos);
    FIELD(rtmsg, rtm_table);
    FIELD(rtmsg, rtm_protocol);
    FIELD(rtmsg, rtm_scope);
    FIELD(rtmsg, rtm_type);
    FIELD(rtmsg, rtm_flags);

    CONST(NETLINK_ROUTE);
    CONST(SOL_NETLINK);
    CONST(NETLINK_CAP_ACK);
    CONST(NETLINK_EXT_ACK);
    CONST(NLMSG_NOOP);
    CONST(NLMSG_ERROR);
    CONST(NLMSG_DONE);
    CONST(NLM_F_REQUEST);
    CONST(NLM_F_MULTI);
    CONST(NLM_F_ACK);
    CONST(NLM_F_REPLACE);
    CONST(NLM_F_EXCL);
    CONST(NLM_F_CREATE);
    CONST(NLM_F_CAPPED);
    CONST(NLM_F_ACK_TLVS);
    CONST(NLMSGERR_ATTR_MSG);
    CONST(NLMSG_ALIGNTO);
    CONST(NLMSG_HDRLEN);
    CONST(RTM_NEWLINK);
    CONST(RTM_DELLINK);
    CONST(RTM_GETLINK);
    CONST(RTM_NEWADDR);
    CONST(RTM_DELADDR);
    CONST(RTM_NEWROUTE);
    CONST(RTM_DELROUTE);
    CONST(RT_TABLE_UNSPEC);
    CONST(RT_TABLE_MAIN);
    CONST(RT_SCOPE_UNIVERSE);
    CONST(RT_SCOPE_LINK);
    CONST(RT_SCOPE_NOWHERE);
    CONST(RTPROT_STATIC);
    CONST(RTN_UNICAST);
    CONST(RTA_DST);
    CONST(RTA_OIF);
    CONST(RTA_PRIORITY);
    CONST(RTA_TABLE);
    CONST(IFA_ADDRESS);
    CONST(IFA_LOCAL);
    CONST(IFLA_IFNAME);
    CONST(IFLA_MTU);
    MACRO(NLMSG_ALIGN, 5);
    MACRO(NLMSG_ALIGN, 16);
    MACRO(NLMSG_LENGTH, 12);
    MACRO(NLMSG_SPACE, 13);
    MACRO(RTA_ALIGN, 7);
    MACRO(RTA_LENGTH, 0);
    MACRO(RTA_LENGTH, 6);
    MACRO(RTA_SPACE, 6);

    /* <poll.h>, <sys/eventfd.h>, <sched.h>, <fcntl.h>, <errno.h> */
    SIZE(pollfd);
    FIELD(pollfd, fd);
    FIELD(pollfd, events);
    FIELD(pollfd, revents);
    CONST(POLLIN);
    CONST(POLLOUT);
    CONST(POLLERR);
    CONST(POLLHUP);
    CONST(POLLNVAL);
    CONST(EFD_SEMAPHORE);
    CONST(EFD_NONBLOCK);
    CONST(EFD_CLOEXEC);
    CONST(CLONE_NEWNET);
    CONST(LOCK_EX);
    CONST(LOCK_NB);
    CONST(LOCK_UN);
    CONST(O_RDONLY);
    CONST(O_RDWR);
    CONST(O_CREAT);
    CONST(O_NONBLOCK);
    CONST(O_CLOEXEC);
    CONST(EPERM);
    CONST(ENOENT);
    CONST(ESRCH);
    CONST(EINTR);
    CONST(EIO);
    CONST(ENXIO);
    CONST(EBADF);
    CONST(EAGAIN);
    CONST(ENOMEM);
    CONST(EACCES);
    CONST(EFAULT);
    CONST(EBUSY);
    CONST(EEXIST);
    CONST(ENODEV);
    CONST(ENOTDIR);
    CONST(EISDIR);
    CONST(EINVAL);
    CONST(EMFILE);
    CONST(ENOSPC);
    CONST(EROFS);
    CONST(ERANGE);
    CONST(EBADFD);
    CONST(EMSGSIZE);
    CONST(ENOPROTOOPT);
    CONST(EPROTONOSUPPORT);
    CONST(EOPNOTSUPP);
    CONST(EAFNOSUPPORT);
    CONST(EADDRINUSE);
    CONST(EADDRNOTAVAIL);
    CONST(ENETDOWN);
    CONST(ENETUNREACH);
    CONST(ENOBUFS);
    CONST(ECONNREFUSED);
    CONST(EHOSTUNREACH);
    return 0;
}
