"""purchasing"""
